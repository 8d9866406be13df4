"""Workers sharing one state file lose no ingest or clock advance; state survives a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from usagemock.testing import free_port, wait_until

pytestmark = pytest.mark.e2e

NOW = "2026-03-17T14:30:00Z"
ORG = "/_usagemock/orgs/kenbun/org_x"
INGESTS = 600  # parallel ingest calls into one org
CONCURRENCY = 50  # requests in flight at once
START_TIMEOUT = 30.0  # seconds for a server to answer its first request
LOAD_TIMEOUT = 120.0  # seconds for every ingest to be answered


class Server:
    """A ``usagemock serve`` process on a free loopback port, its output kept in files."""

    def __init__(
        self, state: Path | str, logs: Path, *args: str, before: tuple[str, ...] = ()
    ) -> None:
        """Start it; ``args`` go to ``serve``, ``before`` to ``usagemock`` (``--register``)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = logs / f"serve-{self.port}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "usagemock", *before, "serve"),
                    *("--port", str(self.port)),
                    *("--state", str(state), "--no-access-log", *args),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )

    def wait_ready(self) -> None:
        """Return once the admin API answers, or fail with what the server printed."""
        if wait_until(self.answers, timeout=START_TIMEOUT, alive=self.running, interval=0.1):
            return
        raise AssertionError(f"usagemock serve did not start: {self.log.read_text()}")

    def answers(self) -> bool:
        """Whether the admin API answers 200: with workers, the port accepts before any serves."""
        try:
            return httpx.get(f"{self.url}/_usagemock/clock", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def running(self) -> bool:
        """Whether the server process is still there."""
        return self.process.poll() is None

    def terminate(self) -> int:
        """Stop the server with SIGTERM, as a process manager would; its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def kill(self) -> None:
        """Make sure the server and its workers are gone (after a failed test too)."""
        children = self.workers()  # read first: once the parent is gone they are orphans
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for child in children:
            with suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)

    def workers(self) -> list[int]:
        """Pids of the server's child processes (Linux /proc; [] where it is not readable)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []


@contextmanager
def serving(
    tmp_path: Path, state: Path | str, *args: str, before: tuple[str, ...] = ()
) -> Iterator[Server]:
    """A ready server on ``state``, killed on the way out whatever happened."""
    server = Server(state, tmp_path, *args, before=before)
    try:
        server.wait_ready()
        yield server
    finally:
        server.kill()


def written_bytes(pids: list[int]) -> dict[int, int]:
    """Bytes each process has written so far (``wchar`` in /proc/PID/io), by pid."""
    out = {}
    for pid in pids:
        try:
            fields = dict(
                line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines()
            )
        except OSError:
            continue
        out[pid] = int(fields["wchar"])
    return out


async def post_all(url: str, path: str, bodies: list[dict[str, Any]]) -> list[int]:
    """POST every body to ``path``, ``CONCURRENCY`` at a time; the statuses."""
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(body: dict[str, Any]) -> int:
            async with gate:
                response = await client.post(path, json=body)
                return response.status_code

        return await asyncio.wait_for(asyncio.gather(*(one(body) for body in bodies)), LOAD_TIMEOUT)


def org_view(url: str, path: str = ORG) -> dict[str, Any]:
    """The admin API's view of an org (record, response, now)."""
    response = httpx.get(f"{url}{path}", timeout=10)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def test_parallel_ingests_from_three_workers_lose_nothing(tmp_path: Path) -> None:
    """600 concurrent ingests into one org over 3 workers all count, in events and in rows."""
    amounts = [1000 + i for i in range(INGESTS)]  # distinct, so a lost one changes the sum
    with serving(tmp_path, tmp_path / "state.sqlite3", "--workers", "3", "--now", NOW) as server:
        before = org_view(server.url)
        workers = server.workers()
        written = written_bytes(workers)
        bodies = [{"amount": amount} for amount in amounts]
        statuses = asyncio.run(post_all(server.url, f"{ORG}/ingest", bodies))
        grew = {
            pid for pid, n in written_bytes(workers).items() if n - written.get(pid, n) > 20_000
        }
        after = org_view(server.url)

    assert statuses == [200] * INGESTS, f"not every ingest got 200: {sorted(set(statuses))}"
    base_events = before["response"]["monthly_events"]
    assert after["response"]["monthly_events"] == base_events + sum(amounts)
    assert len(after["record"]["ingests"]) == len(before["record"]["ingests"]) + INGESTS
    added = Counter(i["amount"] for i in after["record"]["ingests"])
    added.subtract(i["amount"] for i in before["record"]["ingests"])
    assert +added == Counter(amounts)
    if written:  # /proc is readable: the load was spread over several worker processes
        assert len(grew) >= 2, f"only {len(grew)} of workers {workers} served the ingests"


def test_parallel_clock_advances_over_two_workers_all_count(tmp_path: Path) -> None:
    """100 concurrent one-hour advances over 2 workers move the clock exactly 100 hours."""
    with serving(tmp_path, tmp_path / "state.sqlite3", "--workers", "2", "--now", NOW) as server:
        bodies = [{"by": "PT1H"}] * 100
        statuses = asyncio.run(post_all(server.url, "/_usagemock/clock/advance", bodies))
        clock = httpx.get(f"{server.url}/_usagemock/clock").json()
    assert statuses == [200] * 100
    assert clock["now"] == "2026-03-21T18:30:00Z"  # NOW + 100 h


def test_a_restart_keeps_ingests_scenario_and_clock(tmp_path: Path) -> None:
    """After SIGTERM and a start without --now, the org's scenario, ingests and the clock remain."""
    state = tmp_path / "state.sqlite3"
    org = "/_usagemock/orgs/timbal/org_restart"
    with serving(tmp_path, state, "--workers", "2", "--now", NOW) as server:
        applied = httpx.put(f"{server.url}{org}/scenario", json={"name": "heavy_overage"})
        assert applied.status_code == 200, applied.text
        for amount in (5_000, 7_000):
            assert httpx.post(f"{server.url}{org}/ingest", json={"amount": amount}).is_success
        moved = httpx.post(f"{server.url}/_usagemock/clock/advance", json={"by": "P3D"})
        assert moved.status_code == 200, moved.text
        before = org_view(server.url, org)
        clock = httpx.get(f"{server.url}/_usagemock/clock").json()
        assert server.terminate() == 0, server.log.read_text()

    with serving(tmp_path, state) as again:  # no --now: the stored clock must hold
        after = org_view(again.url, org)
        clock_after = httpx.get(f"{again.url}/_usagemock/clock").json()

    assert clock["now"] == "2026-03-20T14:30:00Z" and clock["frozen"]
    assert clock_after == clock
    assert after["record"]["scenario"] == "heavy_overage"
    assert {5_000, 7_000} <= {i["amount"] for i in after["record"]["ingests"]}
    assert after == before
