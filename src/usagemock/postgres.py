"""The :class:`~usagemock.store.Store` on a PostgreSQL server, shared by replicas on many hosts.

Same semantics as the SQLite store: every write transaction first takes one transaction-level
advisory lock, so writes of every replica queue for it and run one after another; each of their
statements reads in READ COMMITTED, so it sees every write committed before the lock was granted
(in REPEATABLE READ the snapshot would be taken by the lock statement itself, before the wait,
and a write could build on a stale clock). Reads run in REPEATABLE READ READ ONLY: one snapshot.
Ingests are rows of their own, the clock is one row, and a version row is bumped by every write
(:meth:`PostgresStore.data_version`).

Connections come from a psycopg pool that the ASGI lifespan opens (or the first transaction, for
an app used in-process) and closes. Everything is safe behind pgbouncer in transaction mode: no
prepared statements (``prepare_threshold=None``), no session state, the locks are transaction
ones. The schema is created or migrated on start, under the same lock, so replicas starting at
once migrate once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from usagemock.domain.clock import ClockState
from usagemock.domain.faults import Fault
from usagemock.domain.records import OrgRecord, stamp
from usagemock.domain.usage import Ingest
from usagemock.errors import ConfigError, StateUnavailable
from usagemock.store import State, StateView, clock_from_row, redacted
from usagemock.stored import from_json, to_json

# The one advisory lock every write takes (an arbitrary constant: "usagemoc" as a number).
_WRITE_LOCK = 0x75736167656D6F63
# Seconds to wait for the server to connect, and for a pooled connection when all are busy or
# the server is restarting. Short, because a request blocks its worker for as long; shorter
# still while the server is known to be away, so each request gets its 503 quickly.
CONNECT_TIMEOUT = 5
POOL_TIMEOUT = 1.5
AWAY_TIMEOUT = 0.3
PROBE_INTERVAL = 1.0
_SETTINGS: dict[str, Any] = {
    "autocommit": True,  # each transaction is BEGIN ... COMMIT of our own, one round trip less
    "prepare_threshold": None,  # no prepared statements: pgbouncer in transaction mode is safe
    "connect_timeout": CONNECT_TIMEOUT,
}

# Each entry migrates the schema from the version before it; the position is the version.
_MIGRATIONS = (
    """
    CREATE TABLE usagemock_orgs (
        api text COLLATE "C" NOT NULL, org_id bytea NOT NULL, record text NOT NULL,
        PRIMARY KEY (api, org_id));
    CREATE TABLE usagemock_ingests (
        id bigserial PRIMARY KEY, api text COLLATE "C" NOT NULL, org_id bytea NOT NULL,
        at text COLLATE "C" NOT NULL, amount bigint NOT NULL);
    CREATE INDEX usagemock_ingests_by_org ON usagemock_ingests (api, org_id);
    CREATE TABLE usagemock_clock (
        id int PRIMARY KEY CHECK (id = 1), frozen_at text, offset_seconds float8 NOT NULL);
    CREATE TABLE usagemock_version (id int PRIMARY KEY CHECK (id = 1), version bigint NOT NULL);
    INSERT INTO usagemock_version VALUES (1, 0);
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)

_BEGIN_LOCKED = f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({_WRITE_LOCK})"
_BEGIN_WRITE = f"{_BEGIN_LOCKED}; UPDATE usagemock_version SET version = version + 1"
_BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

logger = logging.getLogger("usagemock")


class _OnlyPoolErrors(logging.Filter):
    """Keeps psycopg-pool's errors and drops its warnings.

    Its warnings are about connections lost, refused or retried: several lines each (libpq's
    hints included), once per connection and attempt. The store says what they add up to once
    per outage itself (:meth:`PostgresStore._went_away`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is an error (kept), not a warning or less."""
        return record.levelno >= logging.ERROR


_ONLY_POOL_ERRORS = _OnlyPoolErrors()


class PostgresStore:
    """:class:`~usagemock.store.Store` on a PostgreSQL database, through a connection pool."""

    def __init__(self, url: str, *, seed: int, pool_size: int = 4) -> None:
        self.url = url
        self.shown = redacted(url)
        _check_url(url, self.shown)
        try:
            with psycopg.connect(url, **_SETTINGS) as conn:
                _migrate(conn, seed, self.shown)
        except psycopg.OperationalError as exc:
            raise ConfigError(
                f"Cannot use the PostgreSQL database {self.shown} ({_first_line(exc)}); start the "
                "server, or fix --state (host, port, database, user, password)."
            ) from None
        except psycopg.Error as exc:  # reached, but refused: a user who may not create tables
            raise ConfigError(
                f"Cannot keep state in the PostgreSQL database {self.shown} ({_first_line(exc)}); "
                "pass --state with a database whose user may create tables in it."
            ) from None
        self._size = pool_size
        logging.getLogger("psycopg.pool").addFilter(_ONLY_POOL_ERRORS)  # once: the same filter
        self._pool = self._new_pool()
        self._opening = threading.Lock()
        self._opened = False
        self._local = threading.local()  # whether this thread is inside a transaction
        self._away = False  # the last transaction could not reach the server
        self._noting = threading.Lock()  # one outage line, however many requests meet it
        self._next_probe = 0.0

    def _new_pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        return ConnectionPool(
            self.url, kwargs=_SETTINGS, min_size=1, max_size=self._size, open=False,
            timeout=POOL_TIMEOUT, name="usagemock",
        )  # fmt: skip

    def open(self, *, wait: bool = False) -> None:
        """Start the pool (it connects in the background, and reconnects after a restart).

        ``wait`` returns only once its first connection is made, so the first transaction
        finds it ready instead of queueing, which would make the pool grow in the background.
        """
        if self._opened:
            return
        with self._opening:
            if not self._opened:
                self._pool.open(wait=wait, timeout=CONNECT_TIMEOUT)
                self._opened = True

    def _ready_pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        """The open pool; a fresh one if the server is back after being away.

        The pool retries a lost server with growing pauses (1 s, 2 s, 4 s, ...), so after a
        restart of some seconds it could wait several more before it tries again. While away,
        a direct connection probes the server (at most every PROBE_INTERVAL) and, once it
        answers, a fresh pool takes over at once.
        """
        self.open()
        if self._away and time.monotonic() >= self._next_probe:
            self._next_probe = time.monotonic() + PROBE_INTERVAL
            try:
                psycopg.connect(self.url, **_SETTINGS).close()
            except psycopg.OperationalError:
                return self._pool
            with self._opening:
                old, self._pool = self._pool, self._new_pool()
                self._pool.open(wait=False)
            # Closing waits for the old pool's workers, which may be inside a connect attempt.
            threading.Thread(target=old.close, name="usagemock-old-pool", daemon=True).start()
        return self._pool

    def close(self) -> None:
        """Close every pooled connection."""
        with self._opening:
            if self._opened:
                self._pool.close()
                self._opened = False

    def read(self) -> AbstractContextManager[StateView]:
        """One snapshot (REPEATABLE READ) for the length of the block."""
        return self._transaction(_BEGIN_READ)

    def write(self) -> AbstractContextManager[State]:
        """A transaction holding the write lock: writes of every replica run one at a time."""
        return self._transaction(_BEGIN_WRITE)

    def data_version(self) -> int:
        """A number that changes whenever any replica commits a write: one cheap query."""
        with self._transaction("") as state:  # no BEGIN: one statement is its own snapshot
            row = state.execute("SELECT version FROM usagemock_version").fetchone()
        return int(row[0]) if row else 0

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[_PostgresState]:
        """A transaction ``begin`` opens with its first statement; StateUnavailable if no server.

        A transaction is a round trip shorter when its BEGIN goes with its first statement, and
        one that runs none costs nothing.
        """
        if getattr(self._local, "busy", False):
            # A write inside a write would wait for its own lock forever.
            raise RuntimeError("cannot start a transaction within a transaction on one store")
        self._local.busy = True
        state = _PostgresState(self, begin)
        try:
            try:
                yield state
            except BaseException:
                state.end("ROLLBACK")
                raise
            state.end("COMMIT")
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._went_away(exc)
            raise self._unavailable(exc) from exc
        finally:
            state.release()
            self._local.busy = False

    def _start(
        self, sql: str, params: Sequence[Any]
    ) -> tuple[
        ConnectionPool[psycopg.Connection[Any]], psycopg.Connection[Any], psycopg.Cursor[Any]
    ]:
        """Run a transaction's first statements on a pooled connection: its pool, it, the cursor.

        After a server restart the pool still holds connections to the old server: each one
        fails on its first statement, before anything was done, so the next one is tried. The
        statements (BEGIN, and the first of the transaction) go in one message, which takes
        parameters bound on the client.
        """
        pool = self._ready_pool()
        deadline = time.monotonic() + (AWAY_TIMEOUT if self._away else POOL_TIMEOUT)
        failed = 0
        while True:
            conn = pool.getconn(timeout=max(0.05, deadline - time.monotonic()))
            cursor = psycopg.ClientCursor(conn)
            try:
                cursor.execute(sql, params)
                break
            except psycopg.OperationalError:
                pool.putconn(conn)  # a broken connection is dropped and replaced
                failed += 1
                if not conn.broken or failed > self._size:
                    raise
        self._away = False
        while cursor.nextset():  # to the last statement's rows
            pass
        return pool, conn, cursor

    def _went_away(self, exc: Exception) -> None:
        """Note that the server is away: one line when it was answering until now."""
        with self._noting:
            first, self._away = not self._away, True
        if first:
            logger.warning(
                "The state database %s is unavailable (%s); requests get 503 while usagemock "
                "retries it.",
                self.shown,
                _first_line(exc),
            )

    def _unavailable(self, exc: Exception) -> StateUnavailable:
        return StateUnavailable(
            f"The state database {self.shown} is unavailable ({_first_line(exc)}); the request "
            "was not served, retry in a moment."
        )


def _check_url(url: str, shown: str) -> None:
    """Refuse a URL libpq cannot read, or whose port is no port, before connecting."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
        ports = str(params.get("port") or "5432").split(",")
        if not all(port.isdigit() and 0 < int(port) < 65536 for port in ports):
            raise psycopg.ProgrammingError(f"port {params['port']!r} is not a port number")
    except psycopg.ProgrammingError as exc:
        detail = _first_line(exc).replace(url, shown)  # libpq may quote the URL, password too
        raise ConfigError(
            f"--state {shown} is not a PostgreSQL URL usagemock can use ({detail}); "
            "use postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE."
        ) from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _migrate(conn: psycopg.Connection[Any], seed: int, shown: str) -> None:
    """Create or migrate the schema and check the seed, under the write lock (replicas race)."""
    conn.execute(_BEGIN_LOCKED)
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS usagemock_meta (key text PRIMARY KEY, value text NOT NULL)"
        )
        row = conn.execute("SELECT value FROM usagemock_meta WHERE key = 'schema'").fetchone()
        version = 0 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"The PostgreSQL database {shown} holds usagemock state of a newer version "
                f"(schema {version}; this usagemock knows {SCHEMA_VERSION}); upgrade usagemock, "
                "or pass --state with another database."
            )
        for step in _MIGRATIONS[version:]:
            conn.execute(step)
        conn.execute(
            "INSERT INTO usagemock_meta VALUES ('schema', %s), ('seed', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = "
            "CASE WHEN usagemock_meta.key = 'schema' THEN EXCLUDED.value "
            "ELSE usagemock_meta.value END",
            (str(SCHEMA_VERSION), str(seed)),
        )
        stored = conn.execute("SELECT value FROM usagemock_meta WHERE key = 'seed'").fetchone()
        if stored is None or stored[0] != str(seed):
            held = None if stored is None else stored[0]
            raise ConfigError(
                f"State database {shown} holds orgs generated with seed {held}, not {seed}; "
                f"pass --seed {held}, or another --state database for seed {seed}."
            )
    except BaseException:
        if not conn.broken:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# An org id is any text, NUL included, which PostgreSQL text cannot hold: it is kept as its
# UTF-8 bytes, whose order is the code point order SQLite sorts by.
def _key(org_id: str) -> bytes:
    return org_id.encode()


_GET = """
SELECT record, (
    SELECT coalesce(json_agg(json_build_array(i.at, i.amount) ORDER BY i.at, i.id), '[]')
    FROM usagemock_ingests i WHERE i.api = o.api AND i.org_id = o.org_id)
FROM usagemock_orgs o WHERE o.api = %s AND o.org_id = %s
"""


class _PostgresState:
    """:class:`~usagemock.store.State` of one transaction; it begins with its first statement."""

    def __init__(self, store: PostgresStore, begin: str) -> None:
        self._store = store
        self._begin = begin
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._db: psycopg.Connection[Any] | None = None

    def execute(self, query: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        """Run one statement in this transaction (the first one opens it)."""
        if self._db is None:
            sql = f"{self._begin}; {query}" if self._begin else query
            self._pool, self._db, cursor = self._store._start(sql, params)
            return cursor
        return self._db.execute(query, params)

    def end(self, how: str) -> None:
        """COMMIT or ROLLBACK, if the transaction began and its connection still works."""
        if self._db is not None and self._begin and not self._db.broken:
            self._db.execute(how)

    def release(self) -> None:
        """Give the connection back (the pool drops a broken one and connects anew)."""
        if self._pool is not None and self._db is not None:
            self._pool.putconn(self._db)
            self._db = None

    def get(self, api: str, org_id: str) -> OrgRecord | None:
        """The stored record of an org (ingests in time order), or None if it has none."""
        row = self.execute(_GET, (api, _key(org_id))).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        data["ingests"] = [{"at": at, "amount": amount} for at, amount in row[1]]
        return from_json(data)

    def clock(self) -> ClockState:
        """The shared clock (real time, not frozen, until someone sets it)."""
        return clock_from_row(
            self.execute("SELECT frozen_at, offset_seconds FROM usagemock_clock").fetchone()
        )

    def orgs(self) -> list[tuple[str, str]]:
        """(api, org_id) of every stored org, sorted."""
        rows = self.execute("SELECT api, org_id FROM usagemock_orgs ORDER BY api, org_id")
        return [(api, bytes(org).decode()) for api, org in rows]

    def put(self, record: OrgRecord) -> None:
        """Store ``record`` whole: the org's record and ingests become exactly these."""
        data = to_json(record)
        ingests = data.pop("ingests")
        key = (record.api, _key(record.org_id))
        self.execute(
            "INSERT INTO usagemock_orgs VALUES (%s, %s, %s) "
            "ON CONFLICT (api, org_id) DO UPDATE SET record = EXCLUDED.record",
            (*key, json.dumps(data)),
        )
        self.execute("DELETE FROM usagemock_ingests WHERE api = %s AND org_id = %s", key)
        if ingests:
            self.execute(
                "INSERT INTO usagemock_ingests (api, org_id, at, amount) "
                "SELECT %s, %s, unnest(%s::text[]), unnest(%s::bigint[])",
                (*key, [i["at"] for i in ingests], [i["amount"] for i in ingests]),
            )

    def add_ingest(self, api: str, org_id: str, ingest: Ingest) -> None:
        """Append one ingest to an org that has a record (``put`` one first)."""
        self.execute(
            "INSERT INTO usagemock_ingests (api, org_id, at, amount) VALUES (%s, %s, %s, %s)",
            (api, _key(org_id), stamp(ingest.at), ingest.amount),
        )

    def set_fault(self, api: str, org_id: str, fault: Fault | None) -> None:
        """Replace only the fault of an org that has a record; its ingests stay."""
        # Edited here, not with jsonb_set: jsonb cannot hold the \\u0000 an org's text may have.
        # The write lock is held, so no other write comes between the read and the update.
        key = (api, _key(org_id))
        row = self.execute(
            "SELECT record FROM usagemock_orgs WHERE api = %s AND org_id = %s", key
        ).fetchone()
        if row is None:
            return
        data = json.loads(row[0])
        data["fault"] = None if fault is None else vars(fault)
        self.execute(
            "UPDATE usagemock_orgs SET record = %s WHERE api = %s AND org_id = %s",
            (json.dumps(data), *key),
        )

    def delete(self, api: str, org_id: str) -> bool:
        """Forget one org, ingests included; whether it had a record."""
        key = (api, _key(org_id))
        self.execute("DELETE FROM usagemock_ingests WHERE api = %s AND org_id = %s", key)
        gone = self.execute("DELETE FROM usagemock_orgs WHERE api = %s AND org_id = %s", key)
        return gone.rowcount > 0

    def clear(self, apis: Collection[str]) -> None:
        """Forget every org of ``apis`` (the clock and other APIs' records stay)."""
        # DELETE, not TRUNCATE: TRUNCATE's lock would make every reader wait.
        self.execute("DELETE FROM usagemock_ingests WHERE api = ANY(%s)", (list(apis),))
        self.execute("DELETE FROM usagemock_orgs WHERE api = ANY(%s)", (list(apis),))

    def set_clock(self, clock: ClockState) -> None:
        """Replace the shared clock."""
        frozen = None if clock.frozen_at is None else clock.frozen_at.isoformat()
        self.execute(
            "INSERT INTO usagemock_clock VALUES (1, %s, %s) ON CONFLICT (id) DO UPDATE "
            "SET frozen_at = EXCLUDED.frozen_at, offset_seconds = EXCLUDED.offset_seconds",
            (frozen, clock.offset.total_seconds()),
        )
