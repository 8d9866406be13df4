// The control panel's behaviour: the admin token, JSON bodies for htmx, messages, the chart and
// the request log. No build step: plain script, run after htmx and uPlot (all three deferred).
(function () {
  "use strict";
  const body = document.body;
  const root = body.dataset.root;
  const TOKEN_KEY = "usagemock-admin-token";
  const KEPT_ROWS = 200;
  let chart = null;

  // -- the admin token (only when the mock has one), sent as the admin docs send it --------------
  function token() { return sessionStorage.getItem(TOKEN_KEY); }
  function authHeaders() { const t = token(); return t ? { Authorization: "Bearer " + t } : {}; }
  const tokenForm = document.getElementById("token-form");
  function askForToken() { tokenForm.hidden = false; document.getElementById("admin-token").focus(); }
  tokenForm.addEventListener("submit", function (event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById("admin-token").value);
    tokenForm.hidden = true;
    changed();
    watchRequests();
  });
  if (body.dataset.tokenNeeded === "yes" && !token()) { askForToken(); }

  // -- messages ----------------------------------------------------------------------------------
  const status = document.getElementById("status");
  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "ok";
  }
  function problem(xhr) {
    try { return JSON.parse(xhr.responseText).detail || xhr.statusText; } catch (e) { return xhr.statusText; }
  }
  function changed() { htmx.trigger(body, "usagemock:changed"); }

  // -- JSON bodies: the admin API takes JSON only, typed as its spec says ------------------------
  function moment(value) {  // datetime-local gives 2026-04-01T00:00[:00]; the admin API wants UTC
    return (/T\d\d:\d\d$/.test(value) ? value + ":00" : value) + "Z";
  }
  function typed(input) {
    switch (input.dataset.type) {
      case "int": return parseInt(input.value, 10);
      case "number": return parseFloat(input.value);
      case "moment": return moment(input.value);
      default: return input.value;
    }
  }
  function bodyOf(elt) {
    if (elt.dataset.json) { return JSON.parse(elt.dataset.json); }
    const data = {};
    if (elt.tagName !== "FORM") { return data; }
    for (const input of elt.elements) {
      if (!input.name || input.disabled || input.value === "") { continue; }
      const when = input.dataset.when && document.getElementById(input.dataset.when);
      if (when && !when.checked) { continue; }
      data[input.name] = typed(input);
    }
    return data;
  }
  htmx.defineExtension("json-body", {
    onEvent: function (name, event) {
      if (name === "htmx:configRequest" && event.detail.verb !== "get") {
        event.detail.headers["Content-Type"] = "application/json";
      }
    },
    encodeParameters: function (xhr, parameters, elt) {
      xhr.overrideMimeType("text/json");
      return JSON.stringify(bodyOf(elt));
    },
  });

  body.addEventListener("htmx:configRequest", function (event) {
    Object.assign(event.detail.headers, authHeaders());
  });
  body.addEventListener("htmx:afterRequest", function (event) {
    const detail = event.detail;
    const verb = detail.requestConfig.verb.toUpperCase();
    if (detail.failed || !detail.successful) {
      if (detail.xhr.status === 401) { askForToken(); }
      const path = detail.requestConfig.path;
      say(detail.xhr.status ? `${verb} ${path}: ${detail.xhr.status} ${problem(detail.xhr)}`
        : `${verb} ${path}: the mock did not answer; is it running?`, true);
      return;
    }
    if (verb !== "GET") {
      say(`Done: ${verb} ${detail.requestConfig.path}`, false);
      changed();
    }
  });
  body.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target.id === "org") {
      drawChart();
      event.detail.target.focus();
    }
  });
  body.addEventListener("usagemock:changed", function () { drawChart(); });

  // -- the usage chart -----------------------------------------------------------------------------
  const COLORS = ["#0b5cad", "#7a3e9d", "#b3400b", "#1d6b3a"];
  const LIMIT_COLORS = ["#a10d2a", "#5b5b00"];
  const seconds = (iso) => Date.parse(iso) / 1000;
  const number = (n) => n.toLocaleString("en-US");

  function verticals(marks) {  // period boundaries and now, drawn over the plot
    return {
      hooks: {
        draw: [function (u) {
          const ctx = u.ctx;
          ctx.save();
          for (const mark of marks) {
            const x = Math.round(u.valToPos(mark.at, "x", true));
            ctx.strokeStyle = mark.color;
            ctx.setLineDash(mark.dash);
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillStyle = mark.color;
            ctx.font = `${12 * devicePixelRatio}px sans-serif`;
            const y = mark.low ? u.bbox.top + u.bbox.height - 6 * devicePixelRatio
              : u.bbox.top + 14 * devicePixelRatio;  // now's label low: it may sit on a boundary
            ctx.fillText(mark.label, x + 4 * devicePixelRatio, y);
          }
          ctx.restore();
        }],
      },
    };
  }

  function render(holder, data) {
    const caption = document.getElementById("chart-caption");
    const periods = data.periods;
    holder.dataset.periodStart = periods.length ? periods[0].start : "";
    holder.dataset.now = data.now;
    if (chart) { chart.destroy(); chart = null; }
    holder.textContent = "";
    if (!periods.length) {
      caption.textContent = "No period to draw: the plan has no metered window.";
      return;
    }
    const now = seconds(data.now);
    const xs = data.times.map(seconds);
    const series = [{}];
    const columns = [xs];
    data.lines.forEach(function (line, n) {
      const color = COLORS[n % COLORS.length];
      columns.push(line.values.map((v, i) => (xs[i] <= now ? v : null)));
      series.push({ label: line.label, stroke: color, width: 2 });
      columns.push(line.values.map((v, i) => (xs[i] >= now ? v : null)));
      series.push({ label: line.label + " (ahead)", stroke: color, width: 2, dash: [6, 6] });
    });
    data.limits.forEach(function (limit, n) {
      columns.push(xs.map(() => limit.value));
      series.push({ label: `${limit.label} (${number(limit.value)})`, stroke: LIMIT_COLORS[n % 2],
        width: 1.5, dash: [2, 4], points: { show: false } });
    });
    const marked = new Map(data.ingests.map((i) => [seconds(i.at), i]));
    columns.push(xs.map((x, i) => (marked.has(x) ? data.lines[0].values[i] : null)));
    series.push({ label: "Ingests", stroke: "#1d6b3a", width: 0, paths: () => null,
      points: { show: true, size: 9, fill: "#1d6b3a" } });
    const start = seconds(periods[0].start), end = seconds(periods[periods.length - 1].end);
    const boundaries = periods.slice(1).map((p) => ({ at: seconds(p.start), label: "next period",
      color: "#444", dash: [8, 4] }));
    chart = new uPlot({
      width: Math.max(holder.clientWidth, 320),
      height: 280,
      scales: { x: { time: true, range: [start, end] } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),  // the mock's moments are UTC
      axes: [{}, { size: 80, values: (u, ticks) => ticks.map(number) }],
      series: series,
      plugins: [verticals([
        { at: start, label: "period start", color: "#444", dash: [] },
        ...boundaries,
        { at: end, label: "end", color: "#444", dash: [] },
        { at: now, label: "now", color: "#000", dash: [4, 3], low: true },
      ])],
    }, columns, holder);
    const nowIndex = xs.indexOf(Math.min(Math.max(Math.floor(now), xs[0]), xs[xs.length - 1]));
    const reading = data.lines.map((l) => `${l.label} ${number(l.values[nowIndex] ?? 0)}`).join(", ");
    const limits = data.limits.map((l) => `${l.label} ${number(l.value)}`).join(", ");
    const ahead = data.ingests.filter((i) => i.future).length;
    const later = periods.length > 1 ? ` (and ${periods.length - 1} more the timeline reaches)` : "";
    caption.textContent = `Period ${periods[0].start} to ${periods[0].end}${later}. ` +
      `At now, in ${data.unit}: ${reading}` + (limits ? `; ${limits}` : "") +
      `. ${data.ingests.length} ingest(s), ${ahead} ahead of now (dashed: the projection).`;
  }

  let drawing = 0;
  function drawChart() {
    const holder = document.getElementById("chart");
    if (!holder) { return; }
    const ticket = ++drawing;  // a slower earlier answer must not overwrite a newer one
    fetch(holder.dataset.url, { headers: authHeaders() })
      .then((r) => r.ok ? r.json() : r.json().then((p) => Promise.reject(new Error(p.detail))))
      .then(function (data) { if (ticket === drawing) { render(holder, data); } })
      .catch(function (error) { say(`Chart: ${error.message}`, true); });
  }
  window.addEventListener("resize", function () { if (chart) { drawChart(); } });

  // -- the request log (server-sent events read with fetch, so the admin token can go along) ----
  const rows = document.getElementById("requests");
  const streamState = document.getElementById("requests-state");
  let watching = null;

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) { td.className = className; }
  }
  function show(entry) {
    const row = rows.insertRow(0);
    row.className = entry.status >= 400 ? "error" : "";
    cell(row, entry.at.replace("T", " ").replace("Z", ""));
    cell(row, entry.method);
    cell(row, entry.path, "path");
    cell(row, entry.org_id || "-");
    cell(row, entry.token || "-");
    cell(row, String(entry.status));
    cell(row, entry.duration_ms.toFixed(1));
    while (rows.rows.length > KEPT_ROWS) { rows.deleteRow(-1); }
  }
  // The org list shows orgs requests name: refresh it once, shortly after a burst of requests
  // (not per request, and never dropping the last one, as htmx's throttle would).
  let relisting = null;
  function relist() {
    if (relisting) { return; }
    relisting = setTimeout(function () {
      relisting = null;
      htmx.trigger(body, "usagemock:request");
    }, 500);
  }
  function dispatch(block) {
    let kind = "message", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) { kind = line.slice(6).trim(); }
      else if (line.startsWith("data:")) { data += line.slice(5).trim(); }
    }
    if (kind === "request" && data) {
      show(JSON.parse(data));
      relist();
    }
  }
  async function watchRequests() {
    if (watching) { watching.abort(); }
    const controller = new AbortController();
    watching = controller;
    try {
      const response = await fetch(root + "/requests", { headers: authHeaders(), signal: controller.signal });
      if (!response.ok) {
        streamState.textContent = `(not connected: ${response.status})`;
        if (response.status === 401) { askForToken(); }
        return;
      }
      rows.textContent = "";  // the stream starts with the kept entries again
      streamState.textContent = "(live)";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) { break; }
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) { return; }
    }
    streamState.textContent = "(reconnecting…)";
    setTimeout(function () { if (watching === controller) { watchRequests(); } }, 2000);
  }
  window.addEventListener("pagehide", function () { if (watching) { watching.abort(); } });
  watchRequests();
})();
