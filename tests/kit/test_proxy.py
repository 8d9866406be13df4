"""The validating proxy in front of real local servers: flags every break, changes no byte."""

from __future__ import annotations

import asyncio
import gzip
import json
import shlex
import socket
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import Response, StreamingResponse

from tests.kit.broken_servers import BROKEN, OWNED, TOKEN, Broken, altered
from tests.kit.conformant_servers import ALL_AT_ONCE, CONFORMANT, Conformant
from usagemock.cli.proxy import finding_json, finding_line
from usagemock.cli.test import throwaway
from usagemock.kit import Finding, JUnitReport, StageFinished
from usagemock.kit.proxy import (
    FALLBACK_HEADER,
    VIOLATIONS_HEADER,
    VIOLATIONS_HEADER_LIMIT,
    Proxy,
    ProxyOptions,
    violations_header,
)
from usagemock.kit.summary import MarkdownSummary
from usagemock.kit.watch import Verdict, Watch
from usagemock.settings import Settings
from usagemock.testing import free_port
from usagemock.web.app import create_app

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SAMPLES = 12  # calls per known org: every bug of the families shows within a dozen


@dataclass
class Proxied:
    """A proxy on a loopback port in front of an upstream, and what it judged."""

    url: str
    upstream: str
    watch: Watch
    verdicts: list[Verdict] = field(default_factory=list)

    def flagged(self) -> set[str]:
        """Every check a verdict named (the report's view)."""
        return {f.check for v in self.verdicts for f in v.failures}


def _proxy(upstream: Any, api: str, target: str, **options: Any) -> tuple[Proxy, Proxied]:
    org_ids = OWNED if api == "timbal" else ()
    watch = Watch({"": api}, target, token=TOKEN, org_ids=org_ids)
    proxied = Proxied("", target, watch)
    options.setdefault("timeout", 5)
    app = Proxy(ProxyOptions(target=target, **options), watch, proxied.verdicts.append)
    return app, proxied


@pytest.fixture
def proxied(serve: Callable[..., str]) -> Callable[..., Proxied]:
    """Start an upstream app (or use a URL) and a proxy in front of it, on loopback ports."""

    def start(upstream: Any, api: str, **options: Any) -> Proxied:
        target = upstream if isinstance(upstream, str) else serve(upstream)
        app, proxied = _proxy(upstream, api, target, **options)
        # As `usagemock proxy` serves it: the upstream's Server and Date headers, not uvicorn's.
        proxied.url = serve(app, server_header=False, date_header=False)
        return proxied

    return start


def in_process(upstream: Any, api: str) -> tuple[Proxy, Proxied]:
    """A proxy and its upstream in this process: the whole path but the sockets, for sweeps."""
    app, proxied = _proxy(upstream, api, "http://upstream", transport=httpx.ASGITransport(upstream))
    return app, proxied


def traffic(api: str) -> Iterator[tuple[str, dict[str, str]]]:
    """What an e2e suite sends: each known org a dozen times, then the odd requests."""
    paths = [f"/orgs/{org}/billing/overage" for org in OWNED] if api == "timbal" else ["/usage"]
    for path in paths:
        for _ in range(SAMPLES):
            yield path, AUTH
    yield paths[0], {}
    yield paths[0], {"Authorization": "Bearer not-the-token"}
    if api == "timbal":
        for org in ("org_unknown", "o" * 1024, "org%2Fslash"):
            yield f"/orgs/{org}/billing/overage", AUTH


def drive(url: str, api: str) -> set[str]:
    """Send the traffic through the proxy at ``url``; every check its headers named."""
    with httpx.Client(base_url=url, timeout=10) as client:
        return _named(client.get(path, headers=headers) for path, headers in traffic(api))


async def drive_in_process(app: Proxy, api: str) -> set[str]:
    """Send the traffic through a proxy app in this process; every check its headers named."""
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
        return _named([await client.get(path, headers=h) for path, h in traffic(api)])


def _named(responses: Any) -> set[str]:
    named: set[str] = set()
    for response in responses:
        value = response.headers.get(VIOLATIONS_HEADER, "")
        named |= {name.strip() for name in value.split(",") if name.strip()}
    return named


def junit_failures(proxy: Proxied, tmp_path: Path) -> set[str]:
    """The checks the JUnit file written at the end lists as failed."""
    path = tmp_path / "proxy.xml"
    report = JUnitReport(path)
    for event in proxy.watch.events():
        report.handle(event)
    text = path.read_text()
    assert TOKEN not in text, "usagemock proxy: the token leaked into the JUnit file"
    return {
        case.get("name", "")
        for case in ET.parse(path).iter("testcase")
        if case.find("failure") is not None
    }


async def test_its_findings_show_no_seed_since_no_seed_replays_watched_traffic(
    tmp_path: Path,
) -> None:
    """Stdout, --report, JUnit and the Markdown summary of a proxy name no seed (the kit's did)."""
    broken = next(b for b in BROKEN if b.name == "overage_true_at_the_limit")
    app, proxy = in_process(broken.app(), broken.api)
    await drive_in_process(app, broken.api)
    findings = [f for v in proxy.verdicts for f in v.findings]
    assert findings, "the broken server was not flagged: nothing to look at"
    junit, summary = JUnitReport(tmp_path / "proxy.xml"), MarkdownSummary(tmp_path / "proxy.md")
    for event in proxy.watch.events():
        junit.handle(event)
        summary.handle(event)
    shown = [finding_line(f) for f in findings] + [finding_json(f) for f in findings]
    shown += [(tmp_path / "proxy.xml").read_text(), (tmp_path / "proxy.md").read_text()]
    assert not [text for text in shown if "seed" in text.lower()], "usagemock proxy: a seed"


async def test_a_findings_curl_asks_the_upstream_by_its_own_name() -> None:
    """A curl line carries no client's ``Host`` (the proxy's name): curl names the URL's host.

    The proxy sends ``Host`` naming the upstream; replaying with the proxy's ``Host`` against a
    real server (a virtual host, a CDN) would ask another site than the request did.
    """
    broken = next(b for b in BROKEN if b.name == "overage_true_at_the_limit")
    app, proxy = in_process(broken.app(), broken.api)
    await drive_in_process(app, broken.api)
    findings = [f for v in proxy.verdicts for f in v.findings]
    assert {f.stage for f in findings} >= {"client", "proxy"}, "need a client and a server finding"
    for found in findings:
        words = shlex.split(found.curl)
        headers = [words[i + 1].lower() for i, word in enumerate(words) if word == "-H"]
        assert not [h for h in headers if h.startswith("host:")], found.curl
        assert words[-1].startswith("http://upstream/"), found.curl


@pytest.mark.parametrize("broken", BROKEN, ids=lambda b: b.name)
async def test_every_break_is_flagged_in_the_header_the_report_and_junit(
    broken: Broken, tmp_path: Path
) -> None:
    """Each broken server's bug shows in the header, the findings and the JUnit file."""
    app, proxy = in_process(broken.app(), broken.api)
    named = await drive_in_process(app, broken.api)
    assert named & broken.catches, f"usagemock proxy: header named {named}, not {broken.catches}"
    assert proxy.flagged() & broken.catches, proxy.flagged()
    assert junit_failures(proxy, tmp_path) & broken.catches
    report = "\n".join(repr(f) for v in proxy.verdicts for f in v.findings)
    assert TOKEN not in report, "usagemock proxy: the token leaked into a finding"


@pytest.mark.parametrize("server", CONFORMANT, ids=lambda c: f"{c.api}-{c.name}")
async def test_conformant_servers_pass_with_no_violation(server: Conformant) -> None:
    """A server that differs from the mock only where the vendor allows gets no failure."""
    app, proxy = in_process(server.app(), server.api)
    named = await drive_in_process(app, server.api)
    server_named = {name for name in named if not name.startswith("client:")}
    assert not server_named, f"usagemock proxy: {server.name} flagged {server_named}"
    assert not proxy.flagged(), [f.message for v in proxy.verdicts for f in v.failures]


def _raw(client: httpx.Client, path: str, headers: dict[str, str]) -> tuple[int, list[Any], bytes]:
    with client.stream("GET", path, headers=headers) as response:
        body = b"".join(response.iter_raw())
        kept = [
            (k.lower(), v)
            for k, v in response.headers.raw
            if k.lower() not in {b"date", b"transfer-encoding", b"connection", b"keep-alive"}
        ]
        return response.status_code, sorted(kept), body


GZIPPED = gzip.compress(json.dumps({"note": "not Kenbun's shape"}).encode() * 50, mtime=0)


async def fixed(scope: Any, receive: Any, send: Any) -> None:
    """The same bytes every time: gzip at /usage, a streamed body (chunks) elsewhere."""
    if scope["type"] != "http":
        return
    response: Response
    if scope["path"] == "/usage":
        response = Response(
            GZIPPED, 200, {"Content-Encoding": "gzip", "X-Twice": "a"}, "application/json"
        )
        response.raw_headers.append((b"x-twice", b"b"))  # a repeated header stays repeated
    else:

        async def chunks() -> Any:
            for number in range(20):
                yield f"chunk {number}\n".encode()

        response = StreamingResponse(chunks(), 200, media_type="text/plain")
    await response(scope, receive, send)


@pytest.mark.e2e
@pytest.mark.parametrize("path", ["/usage", "/stream/of/text", "/usage?x=%2F&y"])
def test_answers_pass_through_byte_for_byte(proxied: Callable[..., Proxied], path: str) -> None:
    """Status, headers and raw body bytes (gzip, streamed) are those of a direct call."""
    proxy = proxied(fixed, "kenbun")
    with (
        httpx.Client(base_url=proxy.upstream) as direct,
        httpx.Client(base_url=proxy.url) as through,
    ):
        status, headers, body = _raw(direct, path, AUTH)
        p_status, p_headers, p_body = _raw(through, path, AUTH)
    assert (p_status, p_body) == (status, body)
    # The one header the proxy adds: the gzip body breaks Kenbun's schema, and the stream's
    # path is no operation of Kenbun's (the client's bug).
    added = [(k, v) for k, v in p_headers if k == VIOLATIONS_HEADER.encode()]
    assert [h for h in p_headers if h not in added] == headers
    assert len(added) == 1


async def echo(scope: Any, receive: Any, send: Any) -> None:
    """Answer with the request as the upstream saw it."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    seen = {
        "method": scope["method"],
        "raw_path": scope["raw_path"].decode(),
        "query": scope["query_string"].decode(),
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "body": body.decode(),
    }
    await Response(json.dumps(seen), 200, media_type="application/json")(scope, receive, send)


@pytest.mark.e2e
def test_requests_go_upstream_unchanged(proxied: Callable[..., Proxied]) -> None:
    """Method, raw path, query, end-to-end headers (Authorization too) and body reach upstream."""
    proxy = proxied(echo, "timbal")
    headers = {**AUTH, "X-Custom": "1", "Connection": "keep-alive, X-Hop", "X-Hop": "dropped"}
    sent = httpx.post(
        f"{proxy.url}/orgs/org%2Fa%20b/billing/overage?q=%2F&q=2",
        headers=headers,
        content=b"payload",
    ).json()
    assert (sent["method"], sent["raw_path"], sent["query"], sent["body"]) == (
        "POST",
        "/orgs/org%2Fa%20b/billing/overage",
        "q=%2F&q=2",
        "payload",
    )
    names = dict(sent["headers"])
    assert names["authorization"] == f"Bearer {TOKEN}" and names["x-custom"] == "1"
    assert "x-hop" not in names and names["host"] == proxy.upstream.removeprefix("http://")
    assert proxy.verdicts[0].client[0].check == "client_undocumented_operation", "POST is not"


@pytest.mark.e2e
def test_errors_mode_answers_502_problem_naming_the_violations(
    proxied: Callable[..., Proxied],
) -> None:
    """With --errors, a violating answer becomes an RFC 9457 problem listing what it broke."""
    broken = next(b for b in BROKEN if b.name == "cap_exceeded")
    proxy = proxied(broken.app(), "timbal", errors=True)
    response = httpx.get(f"{proxy.url}/orgs/org_alpha/billing/overage", headers=AUTH)
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 502
    assert "timbal_cap_not_exceeded" in {v["check"] for v in problem["violations"]}
    assert "timbal_cap_not_exceeded" in response.headers[VIOLATIONS_HEADER]
    ok = httpx.get(f"{proxy.url}/orgs/org_alpha/billing/overage")  # no token: the client's bug
    assert ok.status_code == 401, "only server violations are replaced"


@pytest.mark.e2e
def test_every_violation_says_what_broke(proxied: Callable[..., Proxied]) -> None:
    """A check whose failure has no message of its own (a 500) is named by its title, not ''."""
    proxy = proxied(answering(500), "kenbun", errors=True)
    response = httpx.get(f"{proxy.url}/usage", headers=AUTH)
    violations = {v["check"]: v["message"] for v in response.json()["violations"]}
    assert "not_a_server_error" in violations
    assert all(violations.values()), violations
    lines = [finding_line(f) for v in proxy.verdicts for f in v.failures]
    assert not [line for line in lines if line.endswith(": ")], lines


def _closed_port() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.mark.e2e
def test_an_unreachable_upstream_gets_a_502_problem(proxied: Callable[..., Proxied]) -> None:
    """Connection refused: a clear 502 problem+json naming the target, never a traceback."""
    proxy = proxied(_closed_port(), "kenbun")
    response = httpx.get(f"{proxy.url}/usage", headers=AUTH)
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert proxy.upstream in response.json()["detail"]
    assert "--target" in response.json()["detail"]


def _raw_exchange(url: str, request: bytes) -> bytes:
    """Send ``request`` as it is on a socket (httpx cannot send a target like ``*``)."""
    address = httpx.URL(url)
    with socket.create_connection((address.host, address.port or 80), timeout=5) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.e2e
def test_a_target_that_is_not_a_path_gets_a_400_problem(proxied: Callable[..., Proxied]) -> None:
    """``OPTIONS *`` (asterisk-form) cannot be forwarded as a path: the client's 400, not a 500."""
    proxy = proxied(_closed_port(), "kenbun")
    answer = _raw_exchange(
        proxy.url, b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer
    assert b"content-type: application/problem+json" in head.lower()
    assert "'*'" in json.loads(body)["detail"]


def answering(status: int, delay: float = 0) -> Any:
    """An upstream answering ``status`` to everything, after ``delay`` seconds."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(delay)
            await Response(b"not here", status)(scope, receive, send)

    return app


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("upstream", "why"),
    [
        (answering(501), "upstream answered 501"),
        (answering(404), "upstream answered an undocumented 404"),
        (None, "upstream unreachable"),
    ],
    ids=["501", "404", "down"],
)
def test_mock_fallback_answers_what_the_upstream_does_not(
    proxied: Callable[..., Proxied], upstream: Any, why: str
) -> None:
    """With --mock-fallback, the mock answers a 501, an undocumented 404 or a dead upstream."""
    mock = create_app(throwaway(Settings(api="kenbun")))
    proxy = proxied(upstream or _closed_port(), "kenbun", fallback=mock)
    response = httpx.get(f"{proxy.url}/usage", headers=AUTH)
    assert response.status_code == 200 and "monthly_events" in response.json()
    assert response.headers[FALLBACK_HEADER].startswith(f"mock ({why}")
    elsewhere = httpx.get(f"{proxy.url}/not/an/operation", headers=AUTH)
    off_spec_404_stays = why.endswith("404")  # a 404 for a path the spec lacks is the server's
    assert (FALLBACK_HEADER in elsewhere.headers) != off_spec_404_stays


@pytest.mark.e2e
def test_mock_fallback_still_reports_the_clients_bugs(proxied: Callable[..., Proxied]) -> None:
    """The mock answering for a dead upstream judges no server, but the client's bug is kept."""
    mock = create_app(throwaway(Settings(api="kenbun")))
    proxy = proxied(_closed_port(), "kenbun", fallback=mock)
    response = httpx.post(f"{proxy.url}/usage", headers=AUTH, content=b"x")
    assert response.status_code == 405 and FALLBACK_HEADER in response.headers
    assert response.headers[VIOLATIONS_HEADER] == "client:client_undocumented_operation"
    assert [f.check for v in proxy.verdicts for f in v.findings] == [
        "client_undocumented_operation"
    ]


async def cut_short(scope: Any, receive: Any, send: Any) -> None:
    """An upstream that promises 100 bytes, sends 10 and drops the connection."""
    if scope["type"] == "http":
        headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"monthly', "more_body": True})
        raise RuntimeError("the upstream crashed mid-body")


@pytest.mark.e2e
def test_an_upstream_cut_short_gets_a_502_problem(proxied: Callable[..., Proxied]) -> None:
    """A body that stops before its length, on a judged operation: 502 problem, no traceback."""
    proxy = proxied(cut_short, "kenbun")
    response = httpx.get(f"{proxy.url}/usage", headers=AUTH)
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.e2e
def test_a_slow_upstream_and_a_tls_mismatch_get_502_problems(
    proxied: Callable[..., Proxied], serve: Callable[..., str]
) -> None:
    """A timeout and a TLS handshake with a plain-HTTP server: 502 problem+json, never a crash."""
    slow = proxied(answering(200, delay=1), "kenbun", timeout=0.2)
    response = httpx.get(f"{slow.url}/usage", headers=AUTH)
    assert response.status_code == 502 and "no answer in time" in response.json()["detail"]
    plain = serve(answering(200)).replace("http://", "https://")
    tls = proxied(plain, "kenbun")
    response = httpx.get(f"{tls.url}/usage", headers=AUTH)
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert plain in response.json()["detail"]


def test_the_violations_header_is_capped() -> None:
    """A long list of broken checks stops under the cap, saying how many more there were."""
    many = tuple(
        Finding(
            api="kenbun",
            check=f"check_{n:03}_" + "x" * 40,
            title="",
            message="",
            stage="proxy",
            operation="GET /usage",
            method="GET",
            url="",
            status=200,
            content_type=None,
            body="",
            curl="",
            seed=0,
        )
        for n in range(100)
    )
    value = violations_header(Verdict(many))
    assert len(value) <= VIOLATIONS_HEADER_LIMIT
    assert value.startswith("check_000_") and value.endswith("more)"), value


@pytest.mark.e2e
@pytest.mark.parametrize("api", ["kenbun", "timbal"])
def test_a_server_with_every_allowed_difference_passes_on_real_sockets(
    api: str, proxied: Callable[..., Proxied]
) -> None:
    """Every difference of the conformant family at once (gzip included) is still no failure."""
    proxy = proxied(ALL_AT_ONCE[api](), api)
    named = drive(proxy.url, api)
    assert not {name for name in named if not name.startswith("client:")}
    assert not proxy.flagged()


@pytest.mark.e2e
def test_a_broken_server_is_flagged_on_real_sockets(proxied: Callable[..., Proxied]) -> None:
    """Over real sockets too, a break shows in the header and the findings."""
    broken = next(b for b in BROKEN if b.name == "sum_off_every_5th_call")
    proxy = proxied(broken.app(), broken.api)
    assert "timbal_used_is_invoiced_plus_pending" in drive(proxy.url, broken.api)
    assert "timbal_used_is_invoiced_plus_pending" in proxy.flagged()


async def test_api_all_judges_each_api_under_its_mount() -> None:
    """In front of a `usagemock serve` of every API, each answer meets its own API's checks."""
    mock = create_app(throwaway(Settings(api="all")))
    watch = Watch({"/kenbun": "kenbun", "/timbal": "timbal"}, "http://upstream")
    verdicts: list[Verdict] = []
    options = ProxyOptions(target="http://upstream", transport=httpx.ASGITransport(mock))
    transport = httpx.ASGITransport(Proxy(options, watch, verdicts.append))
    async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
        for path in ("/kenbun/usage", "/timbal/orgs/org_a/billing/overage") * 3:
            assert (await client.get(path, headers=AUTH)).status_code == 200
    assert not [f.check for v in verdicts for f in v.failures]
    judged = {
        (event.api, event.operation): event.requests
        for event in watch.events()
        if isinstance(event, StageFinished)
    }
    assert judged == {
        ("kenbun", "GET /usage"): 3,
        ("timbal", "GET /orgs/{org_id}/billing/overage"): 3,
    }


async def test_an_api_from_the_registry_is_judged_by_its_own_rules(seats: str) -> None:
    """A third API's mock behind the proxy: conformant answers pass, a broken flag is named."""
    mock = create_app(throwaway(Settings(api=seats)))
    flipped = altered(mock, body=lambda body: {**body, "over_limit": not body["over_limit"]})
    for upstream, expected in ((mock, set()), (flipped, {f"{seats}_over_limit_flag"})):
        watch = Watch({"": seats}, "http://upstream")
        options = ProxyOptions(target="http://upstream", transport=httpx.ASGITransport(upstream))
        transport = httpx.ASGITransport(Proxy(options, watch, lambda verdict: None))
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
            response = await client.get("/orgs/org_s/seats", headers=AUTH)
        assert response.status_code == 200
        named = {n.strip() for n in response.headers.get(VIOLATIONS_HEADER, "").split(",")}
        assert named - {""} == expected
