"""Replicas on one PostgreSQL database behave as one mock, and survive each other's and its faults.

Three ``usagemock serve`` processes on different ports share one database, as replicas on
several hosts behind a load balancer would: what is written through one is seen through the
others on the next request; a replica killed with SIGKILL under load, or the database server
restarting mid-run, loses no acknowledged write; requests that cannot be served get a clear 503
in the API's error body, and the replicas recover by themselves.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.types import ASGIApp, Message

from tests.conftest import FIXED_NOW, bearer
from tests.postgres_cluster import Cluster
from tests.test_workers import Server, org_view, post_all
from usagemock.postgres import POOL_TIMEOUT
from usagemock.settings import Settings
from usagemock.web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

NOW = "2026-03-17T14:30:00Z"
ADMIN = "/_usagemock"
ORG = f"{ADMIN}/orgs/kenbun/org_shared"
RECOVERY = 5.0  # seconds a replica may take to serve again once the database is back
OUTAGE = POOL_TIMEOUT + 1.0  # seconds down: longer than a request waits for a connection


@pytest.fixture
def database(postgres_cluster: Cluster) -> str:
    """The URL of a new database on the session's PostgreSQL server."""
    return postgres_cluster.new_database()


# One set of replicas for the module (three starts take seconds on a busy machine): the tests
# that only read and write run first, the one that kills a replica last.
@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory, postgres_cluster: Cluster
) -> Iterator[list[Server]]:
    """Three ready ``usagemock serve`` processes sharing one database; killed afterwards."""
    database, logs = postgres_cluster.new_database(), tmp_path_factory.mktemp("replicas")
    with ExitStack() as stack:
        servers = []
        for _ in range(3):
            server = Server(database, logs)
            stack.callback(server.kill)
            servers.append(server)
        for server in servers:
            server.wait_ready()
        frozen = httpx.put(f"{servers[0].url}{ADMIN}/clock", json={"now": NOW, "frozen": True})
        assert frozen.status_code == 200, frozen.text
        yield servers


def test_parallel_ingests_across_three_replicas_lose_nothing(replicas: list[Server]) -> None:
    """300 concurrent ingests spread over three replicas all count, seen through each."""
    before = org_view(replicas[0].url, ORG)
    amounts = [2000 + i for i in range(300)]

    async def spread() -> list[int]:
        parts = [
            post_all(server.url, f"{ORG}/ingest", [{"amount": a} for a in amounts[n::3]])
            for n, server in enumerate(replicas)
        ]
        return [status for statuses in await asyncio.gather(*parts) for status in statuses]

    statuses = asyncio.run(spread())
    assert statuses == [200] * len(amounts)
    base = before["response"]["monthly_events"]
    for server in replicas:
        after = org_view(server.url, ORG)
        assert after["response"]["monthly_events"] == base + sum(amounts)
        assert sorted(i["amount"] for i in after["record"]["ingests"]) == amounts


def test_a_change_through_one_replica_is_seen_through_the_others_at_once(
    replicas: list[Server],
) -> None:
    """Clock moves, scenarios, faults and resets made on one replica show on the next request."""
    first, second, third = (server.url for server in replicas)
    moved = httpx.post(f"{first}{ADMIN}/clock/advance", json={"by": "P3D"})
    assert moved.status_code == 200, moved.text
    for url in (second, third):
        assert httpx.get(f"{url}{ADMIN}/clock").json()["now"] == "2026-03-20T14:30:00Z"

    applied = httpx.put(f"{second}{ORG}/scenario", json={"name": "just_over_limit"})
    assert applied.status_code == 200, applied.text
    for url in (first, third):
        view = org_view(url, ORG)
        assert view["record"]["scenario"] == "just_over_limit"
        assert view["response"] == applied.json()["response"]

    overage = "/timbal/orgs/org_f/billing/overage"
    fault = {"status": 500, "rate": 1.0}
    assert httpx.put(f"{third}{ADMIN}/orgs/timbal/org_f/fault", json=fault).status_code == 200
    assert httpx.get(f"{first}{overage}", headers=bearer("t")).status_code == 500

    assert httpx.delete(f"{first}{ADMIN}/orgs").status_code == 204
    assert httpx.get(f"{second}{overage}", headers=bearer("t")).status_code == 200
    assert httpx.get(f"{third}{ADMIN}/orgs").json() == []


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run ``app``'s ASGI lifespan around the block, as uvicorn does around serving."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan"}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task


@dataclass
class Load:
    """Ingests sent in a loop through each replica until stopped; every answer kept."""

    urls: list[str]
    answers: list[tuple[int, int | None, str]] = field(default_factory=list)
    """(amount, status or None when no answer came, body)"""
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, clients_per_url: int = 3) -> list[threading.Thread]:
        """Start the sending threads; amounts are unique across all of them."""
        threads = [
            threading.Thread(target=self._send, args=(url, 100_000 * (n + 1)))
            for n, url in enumerate(self.urls * clients_per_url)
        ]
        for thread in threads:
            thread.start()
        return threads

    def _send(self, url: str, first_amount: int) -> None:
        amount = first_amount
        with httpx.Client(base_url=url, timeout=10) as client:
            while not self.stop.is_set():
                amount += 1
                try:
                    response = client.post(f"{ORG}/ingest", json={"amount": amount})
                except httpx.TransportError:
                    self.answers.append((amount, None, ""))
                    time.sleep(0.05)  # the replica is gone: do not spin
                    continue
                self.answers.append((amount, response.status_code, response.text))

    def acknowledged(self) -> set[int]:
        """Amounts whose ingest was answered 200."""
        return {amount for amount, status, _ in self.answers if status == 200}


def test_a_killed_replica_and_a_database_restart_lose_no_acknowledged_ingest(
    replicas: list[Server], postgres_cluster: Cluster
) -> None:
    """Under load, SIGKILL one replica, then restart PostgreSQL: every 200 stays, errors are 503s.

    The surviving replicas answer 503 in the admin API's problem body while the database is
    away, never a 500 or a traceback, and serve again by themselves once it is back.
    """
    load = Load([server.url for server in replicas])
    threads = load.run()
    try:
        time.sleep(1.5)
        replicas[2].kill()  # SIGKILL, mid-request
        time.sleep(1.0)
        postgres_cluster.stop("fast")  # clients are cut off mid-transaction
        time.sleep(OUTAGE)
        postgres_cluster.start()
        time.sleep(1.5)
    finally:
        if not postgres_cluster.running():
            postgres_cluster.start()
        load.stop.set()
        for thread in threads:
            thread.join(timeout=30)

    survivors = replicas[:2]
    statuses = {status for _, status, _ in load.answers if status is not None}
    assert statuses <= {200, 503}, f"unexpected statuses {statuses}"
    unavailable = [body for _, status, body in load.answers if status == 503]
    assert unavailable, "the restart was not noticed: no request got 503"
    assert all('"status": 503' in body and "retry" in body for body in unavailable)
    recovered = [
        httpx.post(f"{server.url}{ORG}/ingest", json={"amount": 1}) for server in survivors
    ]
    assert [r.status_code for r in recovered] == [200, 200], [r.text for r in recovered]

    stored = {i["amount"] for i in org_view(survivors[0].url, ORG)["record"]["ingests"]}
    lost = load.acknowledged() - stored
    assert len(load.acknowledged()) > 50 and not lost, f"acknowledged but lost: {sorted(lost)}"
    for server in survivors:
        assert "Traceback" not in server.log.read_text()


async def test_an_unreachable_database_is_a_503_in_each_apis_error_body(
    postgres_cluster: Cluster, database: str
) -> None:
    """With the server down, each API answers 503 in its own error body; then 200s again."""
    app = create_app(
        Settings(state=database, validate_responses=True), real_clock=lambda: FIXED_NOW
    )
    transport = httpx.ASGITransport(app=app)
    async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        assert (await client.get("/kenbun/usage", headers=bearer("t"))).status_code == 200
        postgres_cluster.stop("fast")
        try:
            kenbun = await client.get("/kenbun/usage", headers=bearer("t"))
            timbal = await client.get("/timbal/orgs/o/billing/overage", headers=bearer("t"))
            admin = await client.post(f"{ADMIN}/clock/advance", json={"by": "P1D"})
        finally:
            postgres_cluster.start()
        back = time.monotonic()
        while (again := await client.get("/kenbun/usage", headers=bearer("t"))).status_code == 503:
            assert time.monotonic() - back < RECOVERY, "no recovery after the restart"
            await asyncio.sleep(0.1)

    assert kenbun.status_code == timbal.status_code == admin.status_code == 503
    assert kenbun.headers["retry-after"] == "1"
    assert kenbun.headers["content-type"] == "application/problem+json"
    assert kenbun.json()["status"] == 503 and "unavailable" in kenbun.json()["detail"]
    assert timbal.json()["code"] == "SERVICE_UNAVAILABLE"
    assert admin.json()["title"] == "Service Unavailable"
    assert again.status_code == 200


async def test_an_outage_is_one_log_line_saying_that_the_server_retries(
    postgres_cluster: Cluster, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """However many requests meet it, an outage is one warning line; the pool's own are dropped.

    psycopg-pool warns for every connection lost or refused, several lines each (libpq's
    hints); the store says once what is wrong and that it retries.
    """
    caplog.set_level(logging.WARNING)
    app = create_app(Settings(state=database), real_clock=lambda: FIXED_NOW)
    transport = httpx.ASGITransport(app=app)
    async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        assert (await client.get("/kenbun/usage", headers=bearer("t"))).status_code == 200
        postgres_cluster.stop("fast")
        try:
            for _ in range(3):
                assert (await client.get("/kenbun/usage", headers=bearer("t"))).status_code == 503
        finally:
            postgres_cluster.start()
        back = time.monotonic()
        while (await client.get("/kenbun/usage", headers=bearer("t"))).status_code == 503:
            assert time.monotonic() - back < RECOVERY, "no recovery after the restart"
            await asyncio.sleep(0.1)

    said = [(record.name, record.getMessage()) for record in caplog.records]
    assert [name for name, _ in said] == ["usagemock"], said
    line = said[0][1]
    assert "\n" not in line and "unavailable" in line and "retries" in line, line
    assert "state_" in line  # the database, by its URL
