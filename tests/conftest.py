"""Shared fixtures: the mock in-process (httpx ASGITransport) and a fixed clock."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres_cluster import Cluster, find_bin
from tests.thirdapi.seats import FACTS as SEATS
from usagemock import apis
from usagemock.postgres import PostgresStore
from usagemock.settings import Settings
from usagemock.store import Store, open_store
from usagemock.web.app import create_app

REPO = Path(__file__).resolve().parents[1]
ACCESS_FIXTURES = REPO / "fixtures" / "access.yaml"
FIXED_NOW = datetime(2026, 3, 17, 14, 30, tzinfo=UTC)

MakeClient = Callable[..., httpx.AsyncClient]


class SettableClock:
    """A clock a test moves by hand, so one app can answer at many moments."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        """The moment the test last set."""
        return self.now


def in_process_client(
    now: datetime | Callable[[], datetime] = FIXED_NOW, **settings: Any
) -> httpx.AsyncClient:
    """An httpx client talking to a fresh mock in-process (state in memory, responses checked).

    ``now`` is the machine's time as the mock sees it: a moment, or a clock the test moves.
    """
    settings.setdefault("validate_responses", True)
    settings.setdefault("state", ":memory:")
    clock = now if callable(now) else (lambda: now)
    app = create_app(Settings(**settings), real_clock=clock)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock")


@pytest.fixture
def make_client() -> MakeClient:
    """Build in-process clients with chosen settings (``api``, ``fixtures``, ``seed``...)."""
    return in_process_client


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A throw-away PostgreSQL server for the session; skipped without one, failed in CI."""
    bin_dir = find_bin()
    if bin_dir is None:
        reason = (
            "PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql); "
            "apt-get install postgresql to run the PostgreSQL store tests"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)  # CI installs it (.ci/run): a missing server is a failure there
        pytest.skip(reason)
    cluster = Cluster(bin_dir)
    yield cluster
    cluster.remove()


class StateBackend:
    """Where a test's state lives (an SQLite file or a PostgreSQL database); closes its stores."""

    def __init__(self, folder: Path, cluster: Cluster | None) -> None:
        self._folder = folder
        self._cluster = cluster
        self._count = 0
        self._opened: list[Store] = []

    def location(self) -> str:
        """A new, empty state: what ``--state`` would be given."""
        if self._cluster is not None:
            return self._cluster.new_database()
        self._count += 1
        return str(self._folder / f"state{self._count}.sqlite3")

    def open(self, location: str, *, seed: int = 0) -> Store:
        """A store on ``location`` (as a restarted server or another replica opens it)."""
        store = open_store(location, seed=seed)
        if isinstance(store, PostgresStore):
            # Connected before the test starts: a pool that grows in the background while
            # hypothesis draws an example calls random(), which hypothesis reports as a
            # strategy using the random module (a flaky failure under -W error).
            store.open(wait=True)
        self._opened.append(store)
        return store

    def store(self, *, seed: int = 0) -> Store:
        """A store on a new, empty state."""
        return self.open(self.location(), seed=seed)

    def close(self) -> None:
        """Close every store this backend opened."""
        for store in self._opened:
            store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateBackend]:
    """Each store backend in turn: the test runs once on SQLite and once on PostgreSQL."""
    cluster = request.getfixturevalue("postgres_cluster") if request.param == "postgres" else None
    backend = StateBackend(tmp_path, cluster)
    yield backend
    backend.close()


@pytest.fixture
def postgres_backend(postgres_cluster: Cluster, tmp_path: Path) -> Iterator[StateBackend]:
    """PostgreSQL alone, for what only it has (a server that restarts, replicas, roles)."""
    backend = StateBackend(tmp_path, postgres_cluster)
    yield backend
    backend.close()


@pytest.fixture
def seats() -> Iterator[str]:
    """The test-only Seats API registered for one test, as a user's own API is before serving it."""
    apis.register(SEATS)
    try:
        yield SEATS.name
    finally:
        apis.unregister(SEATS.name)


class Listener:
    """A loopback port that counts the connections made to it, closing each at once."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.05)
        self.port: int = self.socket.getsockname()[1]
        self.connections = 0
        self._open = True
        self._thread = threading.Thread(target=self._accept)
        self._thread.start()

    def _accept(self) -> None:
        while self._open:
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        """Stop accepting and free the port."""
        self._open = False
        self._thread.join()
        self.socket.close()
