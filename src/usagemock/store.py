"""Where org records and the clock live: a small transactional interface and its SQLite form.

Every change to state happens inside one write transaction (:meth:`Store.write`), and the
transactions of every process are serializable: one reads the state the previous ones left and
its writes become visible together when it ends, or not at all. So a change computed from what
is stored (advance the clock, put an org into a scenario) never works on a stale copy, and
writes to different parts of an org (its ingests, its fault) touch only their part.

SQLite is embedded (a file by default, ``:memory:`` for throw-away runs) and safe for several
worker processes: WAL mode, a busy timeout, and writes in ``BEGIN IMMEDIATE`` transactions,
which take the file's one write lock up front. A server database implements the same two
protocols, :class:`Store` and :class:`State`: ``usagemock.postgres`` does on PostgreSQL (each
write first takes one transaction-level advisory lock). :func:`open_store` picks the store the
``--state`` value names.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from usagemock.domain.clock import ClockState
from usagemock.domain.faults import Fault
from usagemock.domain.records import OrgRecord, stamp
from usagemock.domain.usage import Ingest
from usagemock.errors import ConfigError
from usagemock.stored import from_json, to_json

MEMORY = ":memory:"
_READ = "BEGIN"  # a deferred transaction: a snapshot in WAL mode


class StateView(Protocol):
    """What a transaction reads: one consistent snapshot of the orgs and the clock."""

    def get(self, api: str, org_id: str) -> OrgRecord | None:
        """The stored record of an org (ingests in time order), or None if it has none."""

    def clock(self) -> ClockState:
        """The shared clock (real time, not frozen, until someone sets it)."""

    def orgs(self) -> list[tuple[str, str]]:
        """(api, org_id) of every stored org, sorted."""


class State(StateView, Protocol):
    """What a write transaction may change; each method touches only the part it names."""

    def put(self, record: OrgRecord) -> None:
        """Store ``record`` whole: the org's record and ingests become exactly these."""

    def add_ingest(self, api: str, org_id: str, ingest: Ingest) -> None:
        """Append one ingest to an org that has a record (``put`` one first)."""

    def set_fault(self, api: str, org_id: str, fault: Fault | None) -> None:
        """Replace only the fault of an org that has a record; its ingests stay."""

    def delete(self, api: str, org_id: str) -> bool:
        """Forget one org, ingests included; whether it had a record."""

    def clear(self, apis: Collection[str]) -> None:
        """Forget every org of ``apis`` (the clock and other APIs' records stay)."""

    def set_clock(self, clock: ClockState) -> None:
        """Replace the shared clock."""


class Store(Protocol):
    """Storage of org records and of the shared clock, in transactions.

    ``read()`` gives a consistent snapshot; ``write()`` a transaction serializable against
    every other write transaction of every process using the same storage. A write leaving by
    an exception changes nothing; a committed one survives the process being killed.
    Transactions do not nest.
    """

    def read(self) -> AbstractContextManager[StateView]:
        """A read-only snapshot, for the length of the ``with`` block."""

    def write(self) -> AbstractContextManager[State]:
        """A write transaction, committed when the ``with`` block ends without an exception."""

    def data_version(self) -> int:
        """A number that changes whenever a write transaction commits, in any process.

        Cheap, and read outside a transaction: a cache of what ``read()`` returned is current
        while this number is the one it was before that read (see ``readcache.py``).
        """

    def open(self) -> None:
        """Make the connections ready (the app's start-up); transactions also do it when needed."""

    def close(self) -> None:
        """Let the connections go (the app's shutdown)."""


def open_store(state: str, *, seed: int) -> Store:
    """The store ``--state`` names: a ``postgresql://`` URL, else an SQLite file or ``:memory:``."""
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", state)
    if scheme is None:
        return SQLiteStore(state, seed=seed)
    if scheme[1] not in ("postgresql", "postgres"):  # libpq reads these two, in lower case
        # Another database's URL is no file name: opening it as SQLite would echo its password.
        raise ConfigError(
            f"--state {redacted(state)} is a {scheme[1]}:// URL; usagemock keeps state in an "
            "SQLite file (a path, or :memory:) or PostgreSQL (postgresql://USER@HOST:PORT/DB)."
        )
    try:
        from usagemock.postgres import PostgresStore
    except ImportError as exc:  # psycopg is the postgres extra's
        raise ConfigError(
            f"--state {redacted(state)} needs PostgreSQL support ({exc.name} is missing); install "
            "it from your usagemock clone with: pip install -e '.[postgres]'"
        ) from None
    return PostgresStore(state, seed=seed)


def clock_from_row(row: tuple[str | None, float] | None) -> ClockState:
    """The clock a ``(frozen_at, offset_seconds)`` row stores; real time when there is none."""
    if row is None:
        return ClockState()
    frozen, offset = row
    return ClockState(
        frozen_at=None if frozen is None else datetime.fromisoformat(frozen),
        offset=timedelta(seconds=offset),
    )


def redacted(state: str) -> str:
    """``--state`` as it may be shown: a URL's password (``user:pw@``, ``password=``) as ``***``."""
    masked = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*?:)[^/?#]*@", r"\1***@", state)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", masked)


#: The tables, created (when missing) in the write transaction that checks the seed: one commit
#: where there were six, so a new state file costs five fewer disk syncs at start-up.
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS orgs (
    api TEXT NOT NULL, org_id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (api, org_id))""",
    """CREATE TABLE IF NOT EXISTS ingests (
    id INTEGER PRIMARY KEY, api TEXT NOT NULL, org_id TEXT NOT NULL,
    at TEXT NOT NULL, amount INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS ingests_by_org ON ingests (api, org_id)",
    """CREATE TABLE IF NOT EXISTS clock (
    id INTEGER PRIMARY KEY CHECK (id = 1), frozen_at TEXT, offset_seconds REAL NOT NULL)""",
)


def _unusable(path: str, exc: sqlite3.DatabaseError) -> str:
    """Why ``path`` cannot be a state file: SQLite says only "unable to open database file"."""
    if Path(path).is_dir():
        return "it is a folder"
    if not Path(path).parent.is_dir():
        return f"its folder {Path(path).parent} does not exist"
    return str(exc)


#: The first bytes of every SQLite database file.
_SQLITE_HEADER = b"SQLite format 3\x00"


def _not_a_database(path: str) -> bool:
    """Whether ``path`` is a file with content that is no SQLite database.

    SQLite refuses most such files itself, but takes a 1-byte file for an empty one and writes
    a database over it: someone's file, lost.
    """
    try:
        with open(path, "rb") as file:
            head = file.read(len(_SQLITE_HEADER))
    except OSError:  # none there (SQLite creates it), a folder, unreadable: SQLite says which
        return False
    return bool(head) and head != _SQLITE_HEADER


class SQLiteStore:
    """:class:`Store` on an SQLite file (or ``:memory:``), one connection per process."""

    def __init__(self, path: Path | str, *, seed: int) -> None:
        self.path = str(path)
        # One connection per store; a lock keeps two threads from sharing one transaction. It is
        # reentrant so that a nested transaction fails (SQLite refuses a second BEGIN) instead
        # of waiting for itself forever.
        self._lock = threading.RLock()
        self._own_commits = 0  # PRAGMA data_version counts only other connections' commits
        try:
            if self.path != MEMORY and _not_a_database(self.path):
                raise sqlite3.DatabaseError("file is not a database")
            self._db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA busy_timeout = 30000")
            if self.path != MEMORY:
                self._db.execute("PRAGMA journal_mode = WAL")
            self._create_tables_and_check_seed(seed)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"State file {self.path} cannot be used ({_unusable(self.path, exc)}); pass "
                "--state with another path, or --state :memory: for a throw-away run."
            ) from exc

    def _create_tables_and_check_seed(self, seed: int) -> None:
        with self._transaction("BEGIN IMMEDIATE"):
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('seed', ?)", (str(seed),))
            stored = self._db.execute("SELECT value FROM meta WHERE key = 'seed'").fetchone()[0]
        if stored != str(seed):
            raise ConfigError(
                f"State file {self.path} holds orgs generated with seed {stored}, not {seed}; "
                f"pass --seed {stored}, or another --state file for seed {seed}."
            )

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[_SQLiteState]:
        with self._lock:
            self._db.execute(begin)
            try:
                yield _SQLiteState(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            if begin != _READ:
                self._own_commits += 1

    def read(self) -> AbstractContextManager[StateView]:
        """A snapshot: in WAL mode a deferred transaction reads one version of the file."""
        return self._transaction(_READ)

    def write(self) -> AbstractContextManager[State]:
        """IMMEDIATE takes the write lock up front, so workers queue for it instead of failing."""
        return self._transaction("BEGIN IMMEDIATE")

    def data_version(self) -> int:
        """``PRAGMA data_version`` (other connections' commits) with this connection's own."""
        with self._lock:
            others = self._db.execute("PRAGMA data_version").fetchone()[0]
            return int(others) << 32 | self._own_commits

    def open(self) -> None:
        """Nothing to do: the file was opened with the store."""

    def close(self) -> None:
        """Nothing to do: the connection lives as long as the process (and ``:memory:`` in it)."""


class _SQLiteState:
    """:class:`State` on a connection inside an open transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def get(self, api: str, org_id: str) -> OrgRecord | None:
        """The stored record of an org (ingests in time order), or None if it has none."""
        row = self._db.execute(
            "SELECT record FROM orgs WHERE api = ? AND org_id = ?", (api, org_id)
        ).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        data["ingests"] = [
            {"at": at, "amount": amount}
            for at, amount in self._db.execute(
                "SELECT at, amount FROM ingests WHERE api = ? AND org_id = ? ORDER BY at, id",
                (api, org_id),
            )
        ]
        return from_json(data)

    def clock(self) -> ClockState:
        """The shared clock (real time, not frozen, until someone sets it)."""
        return clock_from_row(
            self._db.execute("SELECT frozen_at, offset_seconds FROM clock").fetchone()
        )

    def orgs(self) -> list[tuple[str, str]]:
        """(api, org_id) of every stored org, sorted."""
        return [
            (api, org)
            for api, org in self._db.execute("SELECT api, org_id FROM orgs ORDER BY api, org_id")
        ]

    def put(self, record: OrgRecord) -> None:
        """Store ``record`` whole: the org's record and ingests become exactly these."""
        data = to_json(record)
        ingests = data.pop("ingests")
        self._db.execute(
            "INSERT OR REPLACE INTO orgs VALUES (?, ?, ?)",
            (record.api, record.org_id, json.dumps(data)),
        )
        self._db.execute(
            "DELETE FROM ingests WHERE api = ? AND org_id = ?", (record.api, record.org_id)
        )
        self._db.executemany(
            "INSERT INTO ingests (api, org_id, at, amount) VALUES (?, ?, ?, ?)",
            [(record.api, record.org_id, i["at"], i["amount"]) for i in ingests],
        )

    def add_ingest(self, api: str, org_id: str, ingest: Ingest) -> None:
        """Append one ingest to an org that has a record (``put`` one first)."""
        self._db.execute(
            "INSERT INTO ingests (api, org_id, at, amount) VALUES (?, ?, ?, ?)",
            (api, org_id, stamp(ingest.at), ingest.amount),
        )

    def set_fault(self, api: str, org_id: str, fault: Fault | None) -> None:
        """Replace only the fault of an org that has a record; its ingests stay."""
        self._db.execute(
            "UPDATE orgs SET record = json_set(record, '$.fault', json(?)) "
            "WHERE api = ? AND org_id = ?",
            (json.dumps(None if fault is None else vars(fault)), api, org_id),
        )

    def delete(self, api: str, org_id: str) -> bool:
        """Forget one org, ingests included; whether it had a record."""
        self._db.execute("DELETE FROM ingests WHERE api = ? AND org_id = ?", (api, org_id))
        gone = self._db.execute("DELETE FROM orgs WHERE api = ? AND org_id = ?", (api, org_id))
        return gone.rowcount > 0

    def clear(self, apis: Collection[str]) -> None:
        """Forget every org of ``apis`` (the clock and other APIs' records stay)."""
        names = (json.dumps(list(apis)),)
        self._db.execute("DELETE FROM ingests WHERE api IN (SELECT value FROM json_each(?))", names)
        self._db.execute("DELETE FROM orgs WHERE api IN (SELECT value FROM json_each(?))", names)

    def set_clock(self, clock: ClockState) -> None:
        """Replace the shared clock."""
        frozen = None if clock.frozen_at is None else clock.frozen_at.isoformat()
        self._db.execute(
            "INSERT OR REPLACE INTO clock VALUES (1, ?, ?)",
            (frozen, clock.offset.total_seconds()),
        )
