"""The fast path for body-less GETs answers exactly as connexion's full path does.

This is the licence for ``web/fastpath.py``: hypothesis generates requests (paths, odd org ids,
tokens, Prefer headers, methods, query strings, scenarios, faults, the clock) and each goes to
two apps built from the same settings over the same SQLite file, one with the fast path and one
without; status, headers and body bytes must be identical.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from connexion.security import SecurityHandlerFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ACCESS_FIXTURES, SettableClock
from usagemock.access import OPEN
from usagemock.settings import Settings
from usagemock.web import fastpath
from usagemock.web.app import create_app
from usagemock.web.auth import bearer_handler
from usagemock.web.oas31 import checks_only_headers

SCENARIOS = ["just_over_limit", "heavy_overage", "cap_reached", "trial_active", "nope", ""]
TOKENS = ["demo", "acme-admin", "acme-member", "globex-analyst", "no-org", "stranger", "x,y"]
ORG_IDS = st.one_of(
    st.sampled_from(["org_acme", "org_globex", "org_initech", "org_demo", "x"]),
    st.text(min_size=1, max_size=12),
)


@dataclass
class Pair:
    """Two apps over one state: ``fast`` with the fast path, ``full`` without it."""

    fast: httpx.AsyncClient
    full: httpx.AsyncClient
    admin: str


@dataclass
class Served:
    """How many requests the fast path answered itself (so the test is not vacuous)."""

    count: int = 0


def _pair(tmp: Path, clock: SettableClock, **options: Any) -> Pair:
    state = tmp / f"{options.get('api', 'all')}-{bool(options.get('fixtures'))}.sqlite3"
    made = Settings(state=str(state), validate_responses=False, **options)

    def client(fast: bool) -> httpx.AsyncClient:
        app = create_app(made, real_clock=clock, fast_gets=fast)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock")

    return Pair(client(True), client(False), "/_usagemock")


@pytest.fixture(scope="module")
def clock() -> SettableClock:
    """One clock every app of this module reads, moved by each example."""
    return SettableClock()


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory, clock: SettableClock) -> Iterator[list[Pair]]:
    """App pairs for open mode (both APIs under prefixes) and fixtures mode (each at the root)."""
    tmp = tmp_path_factory.mktemp("fastpath")
    made = [
        _pair(tmp, clock),
        _pair(tmp, clock, api="kenbun", fixtures=ACCESS_FIXTURES),
        _pair(tmp, clock, api="timbal", fixtures=ACCESS_FIXTURES),
    ]
    yield made
    for pair in made:
        asyncio.run(pair.fast.aclose())
        asyncio.run(pair.full.aclose())


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Served:
    """Count the requests the fast path answers, by watching (not replacing) its serve step."""
    seen = Served()
    serve = fastpath._serve

    async def counted(*args: Any) -> None:
        seen.count += 1
        await serve(*args)

    monkeypatch.setattr(fastpath, "_serve", counted)
    return seen


def _segment(org_id: str, encode: bool) -> str:
    return quote(org_id, safe="") if encode else quote(org_id, safe="/%")


DOCUMENTED = {"kenbun": "/usage", "timbal": "/orgs/{org}/billing/overage"}
ODD_PATHS = ["/usage/", "/orgs/{org}/billing/overage/", "/orgs/{org}/billing", "/ui/", "/nope"]
PREFERENCES = [
    *(f"scenario={s}" for s in SCENARIOS),
    *("code=403", "code=500", "code=404", "code=x", "example=interim_invoice_fired"),
    *("example=nope", "dynamic=false", "dynamic=true", "latency=0", "latency=99999999"),
    "respond-async",
]


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """One request and the state to set up first; half are well-formed documented GETs."""
    pair = draw(st.integers(0, 2))
    prefix = draw(st.sampled_from(("/kenbun", "/timbal"))) if pair == 0 else ""
    api = prefix.strip("/") or ("kenbun" if pair == 1 else "timbal")
    org_id = draw(ORG_IDS)
    plain = draw(st.booleans())
    path = DOCUMENTED[api] if plain else draw(st.sampled_from([*DOCUMENTED.values(), *ODD_PATHS]))
    path = prefix + path.replace("{org}", _segment(org_id, draw(st.booleans())))
    headers: list[tuple[str, str]] = []
    # one Authorization header when plain; else none, one, or a repeated one, any scheme
    for _ in range(1 if plain else draw(st.integers(0, 2))):
        scheme = "Bearer" if plain else draw(st.sampled_from(["Bearer", "bearer", "Basic", ""]))
        headers.append(("Authorization", f"{scheme} {draw(st.sampled_from(TOKENS))}".strip()))
    prefer = draw(st.lists(st.sampled_from(PREFERENCES), max_size=3))
    if prefer:
        headers.append(("Prefer", ", ".join(prefer)))
    if draw(st.booleans()):
        headers.append(("Origin", "http://localhost:3000"))
    query = "" if plain else draw(st.sampled_from(["", "?x=1", "?org_id=a&org_id=b", "?"]))
    method = "GET" if plain else draw(st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"]))
    return {
        "pair": pair,
        "api": api,
        "method": method,
        "url": path + query,
        "headers": headers,
        "org_id": org_id,
        "setup": draw(st.sampled_from(["none", "scenario", "fault", "ingest", "reset"])),
        "scenario": draw(st.sampled_from(SCENARIOS[:4])),
        "now": draw(st.datetimes(datetime(2024, 1, 1), datetime(2028, 12, 31), timezones=UTC_ONLY)),
    }


UTC_ONLY = st.just(UTC)


async def _set_up(pair: Pair, request: dict[str, Any], api: str) -> None:
    """Change the shared state through the admin API (the same for both apps: one file)."""
    org = quote(request["org_id"], safe="")
    base = f"{pair.admin}/orgs/{api}/{org}"
    admin = pair.full
    if request["setup"] == "scenario":
        await admin.put(f"{base}/scenario", json={"name": request["scenario"]})
    elif request["setup"] == "fault":
        await admin.put(f"{base}/fault", json={"status": 500, "rate": 1.0})
    elif request["setup"] == "ingest":
        await admin.post(f"{base}/ingest", json={"amount": 1234})
    elif request["setup"] == "reset":
        await admin.delete(f"{pair.admin}/orgs")


def _comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "date"]
    return response.status_code, headers, response.content


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
def test_fast_path_answers_exactly_as_connexion_does(
    pairs: list[Pair], clock: SettableClock, request: dict[str, Any]
) -> None:
    """Every generated request gets the same status, headers and body bytes both ways."""
    pair = pairs[request["pair"]]
    clock.now = request["now"]
    method, url, headers = request["method"], request["url"], request["headers"]

    async def both() -> tuple[httpx.Response, httpx.Response]:
        await _set_up(pair, request, request["api"])
        fast = await pair.fast.request(method, url, headers=headers)
        full = await pair.full.request(method, url, headers=headers)
        return fast, full

    fast, full = asyncio.run(both())
    assert _comparable(fast) == _comparable(full), f"{method} {url} {headers}"


def test_the_fast_path_takes_documented_gets(pairs: list[Pair], served: Served) -> None:
    """A plain authorized GET of each documented operation is answered the short way."""
    clock_paths = ["/kenbun/usage", "/timbal/orgs/org_x/billing/overage"]

    async def get_all() -> list[int]:
        answers = []
        for path in clock_paths:
            response = await pairs[0].fast.get(path, headers={"Authorization": "Bearer demo"})
            answers.append(response.status_code)
        return answers

    assert asyncio.run(get_all()) == [200, 200]
    assert served.count == len(clock_paths)


def test_a_repeated_head_is_checked_once_and_answered_afresh(
    pairs: list[Pair], served: Served
) -> None:
    """The second identical request skips the checks, not the state: an ingest between shows."""
    pair, headers = pairs[1], {"Authorization": "Bearer acme-admin", "Prefer": "dynamic=true"}

    async def twice() -> list[int]:
        first = await pair.fast.get("/usage", headers=headers)
        await pair.full.post(f"{pair.admin}/orgs/kenbun/org_acme/ingest", json={"amount": 7})
        second = await pair.fast.get("/usage", headers=headers)
        return [first.json()["monthly_events"], second.json()["monthly_events"]]

    first, second = asyncio.run(twice())
    assert second == first + 7
    assert served.count == 2


def test_unique_heads_keep_a_bounded_memory(tmp_path: Path, clock: SettableClock) -> None:
    """Heads never seen twice (a header unique to each request, and large) are not all kept.

    Each head a client repeats is remembered, up to a count and a size in bytes: without the
    size, 4096 heads of 60 KB grew a served mock by 235 MiB.
    """
    pair = _pair(tmp_path, clock, api="kenbun")
    big = 96 * 1024  # per head; 96 of them are 9 MiB

    async def unique_heads() -> int:
        await pair.fast.get("/usage", headers={"Authorization": "Bearer demo"})  # warm up
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for n in range(96):
            padding = f"{n:08d}" * (big // 8)
            headers = {"Authorization": "Bearer demo", "X-Padding": padding}
            assert (await pair.fast.get("/usage", headers=headers)).status_code == 200
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before

    tracemalloc.start()
    try:
        kept = asyncio.run(unique_heads())
    finally:
        tracemalloc.stop()
    assert kept < fastpath.MAX_REMEMBERED_BYTES + 2**21, f"{kept / 2**20:.1f} MiB kept"


def test_header_pairs_as_lists_get_the_full_paths_answer(
    tmp_path: Path, clock: SettableClock
) -> None:
    """ASGI lets a server give each header as any two-item iterable: lists are answered too."""
    made = Settings(state=str(tmp_path / "lists.sqlite3"), validate_responses=False, api="kenbun")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/usage",
        "raw_path": b"/usage",
        "query_string": b"",
        "root_path": "",
        "headers": [[b"host", b"mock"], [b"authorization", b"Bearer demo"]],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def answer(fast: bool) -> list[Any]:
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        app = create_app(made, real_clock=clock, fast_gets=fast)
        await app(dict(scope), receive, send)
        await app(dict(scope), receive, send)  # again: the head remembered
        return [message.get("status") for message in sent if "status" in message]

    assert asyncio.run(answer(True)) == asyncio.run(answer(False)) == [200, 200]


def test_a_head_is_remembered_with_its_root_path(tmp_path: Path, clock: SettableClock) -> None:
    """Routing reads the root path as well as the path: one passed with "" passes no other."""
    made = Settings(state=str(tmp_path / "root.sqlite3"), validate_responses=False)

    async def statuses(fast: bool) -> list[int]:
        app = create_app(made, real_clock=clock, fast_gets=fast)
        answers = []
        for root_path in ("", "/kenbun"):
            transport = httpx.ASGITransport(app=app, root_path=root_path)
            async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
                response = await client.get("/kenbun/usage", headers={"Authorization": "Bearer x"})
                answers.append(response.status_code)
        return answers

    assert asyncio.run(statuses(True)) == asyncio.run(statuses(False)) == [200, 404]


SCHEMES = {
    "bearer_auth": {"type": "http", "scheme": "Bearer"},
    "basic_auth": {"type": "http", "scheme": "basic"},
    "api_key": {"type": "apiKey", "in": "header", "name": "X-Key"},
}


@pytest.mark.parametrize(
    ("requirements", "ours", "remembered"),
    [
        ([], True, True),
        ([{"bearer_auth": []}], True, True),
        ([{"bearer_auth": []}], False, False),
        ([{"api_key": []}], True, False),
        ([{"basic_auth": []}], True, False),
        ([{"bearer_auth": []}, {"api_key": []}], True, False),
    ],
)
def test_only_the_apis_own_bearer_check_is_remembered(
    requirements: list[dict[str, list[str]]], ours: bool, remembered: bool
) -> None:
    """Another security handler may look at more than the headers, so its verdict is not kept."""
    operation = SimpleNamespace(security=requirements, security_schemes=SCHEMES)
    factory = SecurityHandlerFactory({"bearer": bearer_handler(OPEN)} if ours else None)
    assert checks_only_headers(operation, factory) is remembered
