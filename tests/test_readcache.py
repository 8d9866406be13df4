"""A worker's read cache: current after every commit, its own or another process's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.test_store import NOW, _kenbun, add, put
from usagemock.domain.clock import ClockState
from usagemock.domain.usage import Ingest
from usagemock.readcache import MAX_RECORDS, ReadCache
from usagemock.store import MEMORY, SQLiteStore


def test_data_version_moves_on_every_commit_of_any_connection(tmp_path: Path) -> None:
    """Own writes and another connection's writes change it; reads and rollbacks do not."""
    path = tmp_path / "state.sqlite3"
    mine, other = SQLiteStore(path, seed=0), SQLiteStore(path, seed=0)
    start = mine.data_version()
    with mine.read() as state:
        state.clock()
    assert mine.data_version() == start
    put(mine, _kenbun())
    after_own = mine.data_version()
    assert after_own != start
    put(other, _kenbun("org_b"))
    assert mine.data_version() != after_own
    settled = mine.data_version()
    with pytest.raises(RuntimeError), mine.write() as state:
        state.set_clock(ClockState(frozen_at=NOW))
        raise RuntimeError("rolled back")
    assert mine.data_version() == settled


def test_the_cache_sees_another_workers_commit_at_once(tmp_path: Path) -> None:
    """A record and the clock read through the cache are the new ones right after a commit."""
    path = tmp_path / "state.sqlite3"
    reader, writer = SQLiteStore(path, seed=0), SQLiteStore(path, seed=0)
    cache = ReadCache(reader)
    assert cache.clock_and_record("kenbun", "org_a")[1] is None
    assert cache.clock() == ClockState()
    add(writer, _kenbun(), Ingest(NOW, 1))
    assert cache.clock_and_record("kenbun", "org_a")[1] == replace(
        _kenbun(), ingests=(Ingest(NOW, 1),)
    )
    with writer.write() as state:
        state.set_clock(ClockState(frozen_at=NOW))
    assert cache.clock() == ClockState(frozen_at=NOW)
    add(writer, _kenbun(), Ingest(NOW, 2))
    assert cache.clock_and_record("kenbun", "org_a")[1] == replace(
        _kenbun(), ingests=(Ingest(NOW, 1), Ingest(NOW, 2))
    )


def test_the_cache_sees_its_own_stores_commit_and_reads_only_when_needed() -> None:
    """Own writes show at once (SQLite's data_version ignores them); unchanged reads are kept."""
    store = SQLiteStore(MEMORY, seed=0)
    cache = ReadCache(store)
    assert cache.clock_and_record("kenbun", "org_a")[1] is None
    put(store, _kenbun())
    kept = cache.clock_and_record("kenbun", "org_a")[1]
    assert kept == _kenbun()
    assert cache.clock_and_record("kenbun", "org_a")[1] is kept, (
        "no write since: the same object, not a read"
    )


def test_the_cache_stays_bounded() -> None:
    """Past MAX_RECORDS orgs the cache starts again instead of growing."""
    cache = ReadCache(SQLiteStore(MEMORY, seed=0))
    for n in range(MAX_RECORDS + 10):
        cache.clock_and_record("kenbun", f"org_{n}")
    assert len(cache._kept) <= MAX_RECORDS


def test_the_clock_and_a_record_come_from_one_commit(tmp_path: Path) -> None:
    """A commit that changes both shows both to the next call; an unchanged one reads nothing."""
    path = tmp_path / "state.sqlite3"
    reader, writer = SQLiteStore(path, seed=0), SQLiteStore(path, seed=0)
    cache = ReadCache(reader)
    assert cache.clock_and_record("kenbun", "org_a") == (ClockState(), None)
    with writer.write() as state:
        state.set_clock(ClockState(frozen_at=NOW))
        state.put(_kenbun())
    clock, record = cache.clock_and_record("kenbun", "org_a")
    assert (clock, record) == (ClockState(frozen_at=NOW), _kenbun())
    again = cache.clock_and_record("kenbun", "org_a")
    assert again[0] is clock and again[1] is record, "no commit since: kept, not read again"
