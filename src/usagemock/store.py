"""Where org records and the clock live: a small interface and its SQLite implementation.

SQLite is embedded (a file by default, ``:memory:`` for throw-away runs) and safe for several
worker processes: WAL mode, a busy timeout, and writes in ``BEGIN IMMEDIATE`` transactions.
Ingests are rows of their own, appended, so parallel ingests into one org never lose an update.
A server database can replace it by implementing :class:`Store`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from usagemock.domain.clock import ClockState
from usagemock.domain.records import OrgRecord, from_json, stamp, to_json
from usagemock.domain.usage import Ingest
from usagemock.errors import ConfigError

MEMORY = ":memory:"


class Store(Protocol):
    """Storage of org records and of the shared clock."""

    def get(self, api: str, org_id: str) -> OrgRecord | None:
        """The stored record of an org, or None if nobody changed it yet."""

    def put(self, record: OrgRecord) -> None:
        """Store ``record`` whole, replacing the org's record and ingests."""

    def add_ingest(self, record_if_new: OrgRecord, ingest: Ingest) -> None:
        """Append an ingest, storing ``record_if_new`` first when the org has no record yet."""

    def create(self, record: OrgRecord) -> OrgRecord:
        """Store ``record`` unless the org has one already; return the org's stored record."""

    def delete(self, api: str, org_id: str) -> bool:
        """Forget one org; whether it had a record."""

    def clear(self) -> None:
        """Forget every org (the clock stays)."""

    def clock(self) -> ClockState:
        """The shared clock."""

    def set_clock(self, clock: ClockState) -> None:
        """Replace the shared clock."""

    def orgs(self) -> list[tuple[str, str]]:
        """(api, org_id) of every stored org."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (
    api TEXT NOT NULL, org_id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (api, org_id));
CREATE TABLE IF NOT EXISTS ingests (
    id INTEGER PRIMARY KEY, api TEXT NOT NULL, org_id TEXT NOT NULL,
    at TEXT NOT NULL, amount INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ingests_by_org ON ingests (api, org_id);
CREATE TABLE IF NOT EXISTS clock (
    id INTEGER PRIMARY KEY CHECK (id = 1), frozen_at TEXT, offset_seconds REAL NOT NULL);
"""


class SQLiteStore:
    """:class:`Store` on an SQLite file (or ``:memory:``), one connection per process."""

    def __init__(self, path: Path | str, *, seed: int) -> None:
        self.path = str(path)
        try:
            self._db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA busy_timeout = 30000")
            if self.path != MEMORY:
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.executescript(_SCHEMA)
            self._check_seed(seed)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"State file {self.path} cannot be used ({exc}); pass --state with another "
                "path, or --state :memory: for a throw-away run."
            ) from exc

    def _check_seed(self, seed: int) -> None:
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('seed', ?)", (str(seed),))
            stored = db.execute("SELECT value FROM meta WHERE key = 'seed'").fetchone()[0]
        if stored != str(seed):
            raise ConfigError(
                f"State file {self.path} holds orgs generated with seed {stored}, not {seed}; "
                f"pass --seed {stored}, or another --state file for seed {seed}."
            )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; IMMEDIATE takes the lock up front so workers queue, not fail."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def get(self, api: str, org_id: str) -> OrgRecord | None:
        """The stored record of an org, or None if nobody changed it yet."""
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

    def put(self, record: OrgRecord) -> None:
        """Store ``record`` whole, replacing the org's record and ingests."""
        with self._write() as db:
            self._replace(db, record)

    def _replace(self, db: sqlite3.Connection, record: OrgRecord) -> None:
        data = to_json(record)
        ingests = data.pop("ingests")
        db.execute(
            "INSERT OR REPLACE INTO orgs VALUES (?, ?, ?)",
            (record.api, record.org_id, json.dumps(data)),
        )
        db.execute("DELETE FROM ingests WHERE api = ? AND org_id = ?", (record.api, record.org_id))
        db.executemany(
            "INSERT INTO ingests (api, org_id, at, amount) VALUES (?, ?, ?, ?)",
            [(record.api, record.org_id, i["at"], i["amount"]) for i in ingests],
        )

    def add_ingest(self, record_if_new: OrgRecord, ingest: Ingest) -> None:
        """Append an ingest, storing ``record_if_new`` first when the org has no record yet."""
        api, org_id = record_if_new.api, record_if_new.org_id
        with self._write() as db:
            known = db.execute(
                "SELECT 1 FROM orgs WHERE api = ? AND org_id = ?", (api, org_id)
            ).fetchone()
            if known is None:
                self._replace(db, record_if_new)
            db.execute(
                "INSERT INTO ingests (api, org_id, at, amount) VALUES (?, ?, ?, ?)",
                (api, org_id, stamp(ingest.at), ingest.amount),
            )

    def create(self, record: OrgRecord) -> OrgRecord:
        """Store ``record`` unless the org has one already; return the org's stored record."""
        with self._write() as db:
            known = db.execute(
                "SELECT 1 FROM orgs WHERE api = ? AND org_id = ?", (record.api, record.org_id)
            ).fetchone()
            if known is None:
                self._replace(db, record)
        return record if known is None else self.get(record.api, record.org_id) or record

    def delete(self, api: str, org_id: str) -> bool:
        """Forget one org; whether it had a record."""
        with self._write() as db:
            db.execute("DELETE FROM ingests WHERE api = ? AND org_id = ?", (api, org_id))
            gone = db.execute("DELETE FROM orgs WHERE api = ? AND org_id = ?", (api, org_id))
        return gone.rowcount > 0

    def clear(self) -> None:
        """Forget every org (the clock stays)."""
        with self._write() as db:
            db.execute("DELETE FROM ingests")
            db.execute("DELETE FROM orgs")

    def clock(self) -> ClockState:
        """The shared clock (real time until someone sets it)."""
        row = self._db.execute("SELECT frozen_at, offset_seconds FROM clock").fetchone()
        if row is None:
            return ClockState()
        frozen, offset = row
        return ClockState(
            frozen_at=None if frozen is None else datetime.fromisoformat(frozen),
            offset=timedelta(seconds=offset),
        )

    def set_clock(self, clock: ClockState) -> None:
        """Replace the shared clock."""
        frozen = None if clock.frozen_at is None else clock.frozen_at.isoformat()
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO clock VALUES (1, ?, ?)",
                (frozen, clock.offset.total_seconds()),
            )

    def orgs(self) -> list[tuple[str, str]]:
        """(api, org_id) of every stored org."""
        return [
            (api, org)
            for api, org in self._db.execute("SELECT api, org_id FROM orgs ORDER BY api, org_id")
        ]
