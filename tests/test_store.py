"""SQLite state: records round-trip, survive a restart, and belong to the seed that made them."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usagemock.apis.kenbun.account import KenbunAccount, KenbunPlan, SubscriptionStatus, Trial
from usagemock.apis.timbal.account import TimbalAccount, TimbalPlan
from usagemock.domain.clock import ClockState
from usagemock.domain.faults import Fault
from usagemock.domain.records import OrgRecord
from usagemock.domain.usage import Ingest, UsageCurve
from usagemock.errors import ConfigError
from usagemock.store import MEMORY, SQLiteStore
from usagemock.stored import from_json, to_json

# Stored moments have whole seconds in UTC, as both APIs report them.
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))
counts = st.integers(0, 10**12)
maybe_counts = st.none() | st.integers(1, 10**9)
org_ids = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
statuses = st.sampled_from(list(SubscriptionStatus))
curves = st.builds(UsageCurve, counts, counts, st.integers(0, 2**32))
faults = st.builds(
    Fault,
    status=st.none() | st.integers(400, 599),
    rate=st.floats(0, 1),
    latency_ms=st.integers(0, 60_000),
    jitter_ms=st.integers(0, 60_000),
)
kenbun_accounts = st.builds(
    KenbunAccount,
    org_id=org_ids,
    org_name=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    plan=st.builds(KenbunPlan, counts, st.integers(1, 10**6), counts),
    status=statuses,
    curve=curves,
    trial=st.none() | st.builds(Trial, moments, statuses),
)
timbal_accounts = st.builds(
    TimbalAccount,
    org_id=org_ids,
    plan=st.builds(
        TimbalPlan, st.booleans(), counts, st.booleans(), maybe_counts, maybe_counts, maybe_counts
    ),
    anchor=moments,
    curve=curves,
)
records = st.builds(
    OrgRecord,
    account=kenbun_accounts | timbal_accounts,
    # stored ingests come back in time order (ties in the order they were made)
    ingests=st.lists(st.builds(Ingest, moments, counts), max_size=6).map(
        lambda ingests: tuple(sorted(ingests, key=lambda i: i.at))
    ),
    fault=st.none() | faults,
    scenario=st.none() | st.sampled_from(["approaching_limit", "heavy_overage"]),
    applied_at=st.none() | moments,
)

NOW = datetime(2026, 3, 17, 14, 30, tzinfo=UTC)


def put(store: SQLiteStore, record: OrgRecord) -> None:
    """Store ``record`` whole, in a transaction of its own."""
    with store.write() as state:
        state.put(record)


def get(store: SQLiteStore, api: str = "kenbun", org_id: str = "org_a") -> OrgRecord | None:
    """An org's stored record, read in a snapshot."""
    with store.read() as state:
        return state.get(api, org_id)


def add(store: SQLiteStore, record: OrgRecord, *ingests: Ingest) -> None:
    """Store ``record`` unless its org has one, then append ``ingests``, in one transaction."""
    with store.write() as state:
        if state.get(record.api, record.org_id) is None:
            state.put(record)
        for ingest in ingests:
            state.add_ingest(record.api, record.org_id, ingest)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(record=records)
def test_a_stored_record_reads_back_equal(record: OrgRecord) -> None:
    """Whatever a record holds, storing it and reading it back gives the same record."""
    store = SQLiteStore(MEMORY, seed=0)
    put(store, record)
    assert get(store, record.api, record.org_id) == record
    with store.read() as state:
        assert state.orgs() == [(record.api, record.org_id)]


@settings(max_examples=60)
@given(record=records)
def test_json_form_round_trips(record: OrgRecord) -> None:
    """The JSON form the admin API reads and replaces rebuilds the same record."""
    assert from_json(to_json(record)) == record


@settings(max_examples=30)
@given(record=records, first=records)
def test_put_replaces_the_record_and_its_ingests(record: OrgRecord, first: OrgRecord) -> None:
    """Storing a record whole drops what the org held before, ingests included."""
    store = SQLiteStore(MEMORY, seed=0)
    earlier = replace(first, account=replace(first.account, org_id=record.org_id))
    if earlier.api == record.api:
        put(store, earlier)
    put(store, record)
    assert get(store, record.api, record.org_id) == record


@settings(max_examples=30)
@given(record=records, fault=st.none() | faults)
def test_set_fault_changes_only_the_fault(record: OrgRecord, fault: Fault | None) -> None:
    """Setting an org's fault keeps its account, scenario and every ingest."""
    store = SQLiteStore(MEMORY, seed=0)
    put(store, record)
    with store.write() as state:
        state.set_fault(record.api, record.org_id, fault)
    assert get(store, record.api, record.org_id) == replace(record, fault=fault)


def _kenbun(org_id: str = "org_a", limit: int = 500_000) -> OrgRecord:
    return OrgRecord(
        KenbunAccount(
            org_id,
            "Acme",
            KenbunPlan(limit, 10_000, 50),
            SubscriptionStatus.ACTIVE,
            UsageCurve(100_000, 0, 7),
        )
    )


def test_state_survives_a_restart_on_the_same_file(tmp_path: Path) -> None:
    """A second store on the same file (a restarted server) sees the records, ingests and clock."""
    path = tmp_path / "state.sqlite3"
    first = SQLiteStore(path, seed=5)
    record = _kenbun()
    add(first, record, Ingest(NOW, 1234))
    clock = ClockState(frozen_at=NOW)
    with first.write() as state:
        state.set_clock(clock)
    del first

    again = SQLiteStore(path, seed=5)
    assert get(again) == replace(record, ingests=(Ingest(NOW, 1234),))
    with again.read() as state:
        assert state.clock() == clock


def test_a_file_made_with_another_seed_is_refused_with_the_fix(tmp_path: Path) -> None:
    """One seed's orgs are not mixed with another's: the error says which flag to pass."""
    path = tmp_path / "state.sqlite3"
    put(SQLiteStore(path, seed=5), _kenbun())
    with pytest.raises(ConfigError) as caught:
        SQLiteStore(path, seed=6)
    message = str(caught.value)
    assert str(path) in message and "seed 5, not 6" in message
    assert "--seed 5" in message and "--state" in message


def test_a_file_that_is_not_a_database_is_refused_with_the_fix(tmp_path: Path) -> None:
    """A state path holding something else names the file and suggests another --state."""
    path = tmp_path / "notes.txt"
    path.write_text("this is not SQLite\n" * 100)
    with pytest.raises(ConfigError, match="--state :memory:") as caught:
        SQLiteStore(path, seed=0)
    assert str(path) in str(caught.value)


def test_a_failed_write_transaction_changes_nothing() -> None:
    """A write transaction left by an exception is rolled back whole."""
    store = SQLiteStore(MEMORY, seed=0)
    add(store, _kenbun(), Ingest(NOW, 1))
    with pytest.raises(RuntimeError), store.write() as state:
        state.add_ingest("kenbun", "org_a", Ingest(NOW, 2))
        state.set_clock(ClockState(frozen_at=NOW))
        raise RuntimeError("changed my mind")
    assert get(store) == replace(_kenbun(), ingests=(Ingest(NOW, 1),))
    with store.read() as state:
        assert state.clock() == ClockState()


def test_a_read_snapshot_does_not_see_a_later_commit(tmp_path: Path) -> None:
    """A read transaction sees one version of the file: a write committed meanwhile stays out."""
    path = tmp_path / "state.sqlite3"
    reader, writer = SQLiteStore(path, seed=0), SQLiteStore(path, seed=0)
    add(writer, _kenbun(), Ingest(NOW, 1))
    with reader.read() as state:
        before = state.get("kenbun", "org_a")
        add(writer, _kenbun(), Ingest(NOW, 2))
        assert state.get("kenbun", "org_a") == before
    assert get(reader) == replace(_kenbun(), ingests=(Ingest(NOW, 1), Ingest(NOW, 2)))


def test_reset_forgets_one_org_and_clear_forgets_all_but_the_clock() -> None:
    """Deleting reports whether the org had a record; clearing empties orgs and keeps the clock."""
    store = SQLiteStore(MEMORY, seed=0)
    for org in ("org_a", "org_b"):
        add(store, _kenbun(org), Ingest(NOW, 5))
    with store.write() as state:
        state.set_clock(ClockState(offset=timedelta(days=3)))
        assert state.delete("kenbun", "org_a") is True
        assert state.delete("kenbun", "org_a") is False
        assert state.get("kenbun", "org_a") is None
        assert state.orgs() == [("kenbun", "org_b")]
    add(store, _kenbun("org_a"), Ingest(NOW, 1))
    assert get(store) == replace(_kenbun("org_a"), ingests=(Ingest(NOW, 1),))

    with store.write() as state:
        state.clear()
    with store.read() as state:
        assert state.orgs() == []
        assert state.clock() == ClockState(offset=timedelta(days=3))


def test_an_untouched_store_follows_real_time() -> None:
    """Until someone sets it, the stored clock is real time: not frozen, no offset."""
    with SQLiteStore(MEMORY, seed=0).read() as state:
        assert state.clock() == ClockState()


def test_ingest_times_keep_their_microseconds_and_order() -> None:
    """An ingest a microsecond after another is stored as such and read back in time order."""
    store = SQLiteStore(MEMORY, seed=0)
    add(store, _kenbun(), Ingest(NOW + timedelta(microseconds=1), 2), Ingest(NOW, 1))
    stored = get(store)
    assert stored is not None
    assert [(i.at, i.amount) for i in stored.ingests] == [
        (NOW, 1),
        (NOW + timedelta(microseconds=1), 2),
    ]


def test_a_nested_transaction_is_refused_not_a_hang() -> None:
    """Opening a transaction inside another on one store fails at once instead of deadlocking."""
    store = SQLiteStore(MEMORY, seed=0)
    with store.write(), pytest.raises(sqlite3.OperationalError, match="within a transaction"):
        store.read().__enter__()
    put(store, _kenbun())
    assert get(store) == _kenbun()
