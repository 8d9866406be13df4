"""The control panel's server side: its gate, its fragments, the chart JSON and the request log."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXED_NOW, MakeClient, bearer
from tests.test_cli import NOW, LiveServer
from tests.web.test_admin import GATE_CASES
from usagemock.apis import names
from usagemock.domain.periods import isoformat

PANEL = "/_usagemock/panel"
ADMIN = "/_usagemock"


@pytest.mark.parametrize(("settings", "headers", "status"), GATE_CASES)
async def test_fragments_sit_behind_the_admin_gate_and_the_page_does_not(
    make_client: MakeClient, settings: dict, headers: dict, status: int
) -> None:
    """Fragments and the stream answer as the admin API would; the page and its files stay open."""
    async with make_client(**settings) as client:
        fragments = [
            await client.get(f"{PANEL}/{path}", headers=headers)
            for path in ("orgs", "clock", "org?api=kenbun&id=org_a", "org/state?api=timbal&id=b")
        ]
        page = await client.get(f"{PANEL}/")
        script = await client.get(f"{PANEL}/static/panel.js")
    assert {r.status_code for r in fragments} == {status}, [r.text for r in fragments]
    assert page.status_code == script.status_code == 200
    assert ('data-token-needed="yes"' in page.text) == ("admin_token" in settings)


async def test_fragments_refuse_pages_of_other_origins(make_client: MakeClient) -> None:
    """The admin origin guard covers the panel: another site's page cannot read an org."""
    async with make_client() as client:
        refused = await client.get(
            f"{PANEL}/org/state?api=kenbun&id=org_a", headers={"Origin": "http://evil.example"}
        )
        own = await client.get(
            f"{PANEL}/org/state?api=kenbun&id=org_a", headers={"Origin": "http://mock"}
        )
    assert refused.status_code == 403 and "other origins" in refused.json()["detail"]
    assert own.status_code == 403, "on loopback the page's own origin must be a loopback name"


async def test_no_other_site_may_frame_the_panel(make_client: MakeClient) -> None:
    """Every panel answer forbids framing, so a page cannot overlay the panel's buttons."""
    async with make_client() as client:
        answers = [
            await client.get(f"{PANEL}/{path}") for path in ("", "orgs", "static/panel.js", "x")
        ]
    for answer in answers:
        assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert answer.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("method", "path", "status", "says"),
    [
        ("GET", f"{PANEL}/org?api=nope&id=x", 400, "api must be one of timbal, kenbun"),
        ("GET", f"{PANEL}/org?api=kenbun", 400, "id must be an org id of 1 to 200"),
        ("GET", f"{PANEL}/org/state?api=timbal&id=" + "x" * 201, 400, "1 to 200 characters"),
        ("GET", f"{PANEL}/nothing", 404, "open /_usagemock/panel/"),
        ("GET", f"{PANEL}/static/nothing.js", 404, "open /_usagemock/panel/"),
        ("GET", f"{PANEL}/static/vendor", 404, "open /_usagemock/panel/"),
        ("POST", f"{PANEL}/orgs", 405, "the panel only reads"),
    ],
)
async def test_bad_panel_requests_get_a_problem_saying_what_to_send(
    make_client: MakeClient, method: str, path: str, status: int, says: str
) -> None:
    """A wrong query, page or method gets one problem+json line, never a traceback or a 500."""
    async with make_client() as client:
        response = await client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]


async def test_org_list_shows_stored_and_seen_orgs_in_one_line_each(
    make_client: MakeClient,
) -> None:
    """Orgs changed through the admin API and orgs requests named are listed; search narrows."""
    async with make_client() as client:
        await client.put(
            f"{ADMIN}/orgs/kenbun/org_near/scenario", json={"name": "approaching_limit"}
        )
        await client.get("/timbal/orgs/org%2Fseen/billing/overage", headers=bearer("t0ken-abc"))
        listed = (await client.get(f"{PANEL}/orgs")).text
        searched = (await client.get(f"{PANEL}/orgs", params={"q": "SEEN"})).text
        nothing = (await client.get(f"{PANEL}/orgs", params={"q": "zzz"})).text
    assert "org_near" in listed and "460,000 / 500,000 events" in listed
    assert "org/seen" in listed and "id=org%2Fseen" in listed, "ids are quoted whole in links"
    assert "org/seen" in searched and "org_near" not in searched
    assert "No listed org" in nothing


async def test_org_state_shows_what_the_admin_api_says_the_org_answers(
    make_client: MakeClient,
) -> None:
    """The org fragment's answer is the admin API's ``response``, and it escapes what it shows."""
    org = "<b>org</b>"
    async with make_client() as client:
        admin = f"{ADMIN}/orgs/timbal/{quote(org, safe='')}"
        await client.put(f"{admin}/fault", json={"status": 500, "rate": 0.5})
        view = (await client.get(admin)).json()
        state = (await client.get(f"{PANEL}/org/state", params={"api": "timbal", "id": org})).text
        controls = (await client.get(f"{PANEL}/org", params={"api": "timbal", "id": org})).text
    shown = state.split('aria-labelledby="answer-title">')[1].split("</pre>")[0]
    assert json.loads(shown.replace("&#34;", '"')) == view["response"]
    assert "500 at rate 0.5" in state
    assert "<b>org</b>" not in controls and "&lt;b&gt;org&lt;/b&gt;" in controls
    assert "/_usagemock/orgs/timbal/%3Cb%3Eorg%3C%2Fb%3E/fault" in controls
    assert "<option>401</option><option>403</option><option>500</option>" in controls


async def test_chart_of_a_kenbun_org_near_its_limit(make_client: MakeClient) -> None:
    """The chart holds the month, the free tier, the scenario's ingest and its value at now."""
    async with make_client() as client:
        await client.put(
            f"{ADMIN}/orgs/kenbun/org_near/scenario", json={"name": "approaching_limit"}
        )
        chart = (await client.get(f"{ADMIN}/orgs/kenbun/org_near/chart")).json()
    assert chart["periods"] == [{"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}]
    assert chart["limits"] == [{"key": "free_tier_limit", "label": "Free tier", "value": 500_000}]
    assert chart["ingests"] == [{"at": NOW, "amount": 460_000, "future": False}]
    (line,) = chart["lines"]
    at_now = line["values"][chart["times"].index(NOW)]
    assert at_now == 460_000
    assert line["values"] == sorted(line["values"]), "usage never goes down inside a period"
    assert chart["times"] == sorted(set(chart["times"]))


async def test_chart_at_now_counts_a_scenario_applied_within_the_second(
    make_client: MakeClient,
) -> None:
    """A clock between whole seconds (a running one always is): now's value holds the scenario.

    The chart's times are whole seconds; evaluated at the second before the scenario's ingest,
    the caption and curve read 0 while the answer says 460,000.
    """
    async with make_client() as client:
        frozen = {"now": "2026-03-17T14:30:00.600Z", "frozen": True}
        assert (await client.put(f"{ADMIN}/clock", json=frozen)).status_code == 200
        await client.put(
            f"{ADMIN}/orgs/kenbun/org_near/scenario", json={"name": "approaching_limit"}
        )
        chart = (await client.get(f"{ADMIN}/orgs/kenbun/org_near/chart")).json()
    (line,) = chart["lines"]
    assert line["values"][chart["times"].index(chart["now"])] == 460_000
    assert chart["times"] == sorted(set(chart["times"]))


async def test_chart_reaches_into_the_periods_a_timeline_lands_in(
    make_client: MakeClient,
) -> None:
    """An ingest dated ahead past the period's end draws the next period too, marked as future."""
    async with make_client() as client:
        ahead = isoformat(FIXED_NOW + timedelta(days=20))
        await client.post(f"{ADMIN}/orgs/kenbun/org_a/ingest", json={"amount": 7, "at": ahead})
        chart = (await client.get(f"{ADMIN}/orgs/kenbun/org_a/chart")).json()
        unmetered = await client.put(
            f"{ADMIN}/orgs/timbal/org_b/scenario", json={"name": "no_metered_window"}
        )
        empty = (await client.get(f"{ADMIN}/orgs/timbal/org_b/chart")).json()
    assert [p["start"] for p in chart["periods"]] == [
        "2026-03-01T00:00:00Z",
        "2026-04-01T00:00:00Z",
    ]
    assert chart["ingests"] == [{"at": ahead, "amount": 7, "future": True}]
    assert chart["times"][-1] == "2026-04-30T23:59:59Z"
    assert unmetered.status_code == 200
    assert (empty["periods"], empty["times"], empty["ingests"]) == ([], [], [])
    assert [line["values"] for line in empty["lines"]] == [[], [], []]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    api=st.sampled_from(names()),
    org=st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
    days=st.integers(min_value=-400, max_value=400),
    amount=st.integers(min_value=0, max_value=10**9),
)
async def test_the_chart_at_now_is_what_the_api_answers(
    make_client: MakeClient, api: str, org: str, days: int, amount: int
) -> None:
    """Whatever the API, org, moment and ingest, the chart's value at now is the API's number."""
    async with make_client() as client:
        step = f"-P{-days}D" if days < 0 else f"P{days}D"
        assert (await client.post(f"{ADMIN}/clock/advance", json={"by": step})).status_code == 200
        path = f"{ADMIN}/orgs/{api}/{quote(org, safe='')}"
        await client.post(f"{path}/ingest", json={"amount": amount})
        view = (await client.get(path)).json()
        chart = (await client.get(f"{path}/chart")).json()
    if not chart["periods"]:
        return  # a plan without a metered window has nothing to draw
    index = chart["times"].index(chart["now"])
    drawn = {line["key"]: line["values"][index] for line in chart["lines"]}
    assert drawn == {key: view["response"][key] for key in drawn}


@pytest.mark.e2e
def test_a_live_mock_streams_past_and_new_requests_and_links_the_panel() -> None:
    """The stream sends the kept API requests, then each new one, tokens masked; banner links it."""
    live = LiveServer("--now", NOW)
    try:
        with httpx.Client(base_url=live.url, timeout=10) as client:
            client.get("/kenbun/ui/")  # the docs are not what the log is for
            client.get("/kenbun/usage", headers=bearer("first-token"))
            events = []
            with client.stream("GET", f"{PANEL}/requests") as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                for line in stream.iter_lines():
                    if line.startswith("data:"):
                        events.append(json.loads(line[5:]))
                        if len(events) == 2:
                            break
                        client.get(
                            "/timbal/orgs/org_x/billing/overage", headers=bearer("2nd-token")
                        )
    finally:
        out = live.stop()
    first, second = events
    assert (first["path"], first["status"], first["token"]) == ("/kenbun/usage", 200, "firs…")
    assert first["org_id"] and first["api"] == "kenbun"
    assert (second["path"], second["org_id"], second["token"]) == (
        "/timbal/orgs/org_x/billing/overage",
        "org_x",
        "2nd-…",
    )
    assert f"{live.url}/_usagemock/panel/" in out
