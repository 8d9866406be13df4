"""Stored state: records round-trip, survive a restart, and belong to the seed that made them.

Every test that is about the store's semantics runs on each backend (``state_backend``: an
SQLite file and a PostgreSQL database); a few are about one backend's own failure modes.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import StateBackend
from tests.postgres_cluster import Cluster
from usagemock import apis
from usagemock.apis.kenbun.account import KenbunAccount, KenbunPlan, SubscriptionStatus, Trial
from usagemock.apis.timbal.account import TimbalAccount, TimbalPlan
from usagemock.domain.clock import ClockState
from usagemock.domain.faults import Fault
from usagemock.domain.records import OrgRecord
from usagemock.domain.usage import Ingest, UsageCurve
from usagemock.errors import ConfigError, StateUnavailable
from usagemock.postgres import PostgresStore
from usagemock.store import SQLiteStore, Store, open_store
from usagemock.stored import from_json, to_json
from usagemock.testing import free_port

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


# The hypothesis tests share one store per test and empty it for each example (through the
# store's own interface): a new PostgreSQL database per example would take most of a second.
# No deadline: an example waits on a database server that shares the machine with other work.
SHARED_STORE = [HealthCheck.function_scoped_fixture]


def emptied(store: Store) -> Store:
    """``store`` with no org and the clock at real time, as a new one."""
    with store.write() as state:
        state.clear(apis.names())
        state.set_clock(ClockState())
    return store


@pytest.fixture
def shared_store(state_backend: StateBackend) -> Store:
    """One store on each backend, connected, for all the examples of a test."""
    return emptied(state_backend.store())


def put(store: Store, record: OrgRecord) -> None:
    """Store ``record`` whole, in a transaction of its own."""
    with store.write() as state:
        state.put(record)


def get(store: Store, api: str = "kenbun", org_id: str = "org_a") -> OrgRecord | None:
    """An org's stored record, read in a snapshot."""
    with store.read() as state:
        return state.get(api, org_id)


def add(store: Store, record: OrgRecord, *ingests: Ingest) -> None:
    """Store ``record`` unless its org has one, then append ``ingests``, in one transaction."""
    with store.write() as state:
        if state.get(record.api, record.org_id) is None:
            state.put(record)
        for ingest in ingests:
            state.add_ingest(record.api, record.org_id, ingest)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, *SHARED_STORE]
)
@given(record=records)
def test_a_stored_record_reads_back_equal(shared_store: Store, record: OrgRecord) -> None:
    """Whatever a record holds, storing it and reading it back gives the same record."""
    store = emptied(shared_store)
    put(store, record)
    assert get(store, record.api, record.org_id) == record
    with store.read() as state:
        assert state.orgs() == [(record.api, record.org_id)]


@settings(max_examples=60)
@given(record=records)
def test_json_form_round_trips(record: OrgRecord) -> None:
    """The JSON form the admin API reads and replaces rebuilds the same record."""
    assert from_json(to_json(record)) == record


@settings(max_examples=30, deadline=None, suppress_health_check=SHARED_STORE)
@given(record=records, first=records)
def test_put_replaces_the_record_and_its_ingests(
    shared_store: Store, record: OrgRecord, first: OrgRecord
) -> None:
    """Storing a record whole drops what the org held before, ingests included."""
    store = emptied(shared_store)
    earlier = replace(first, account=replace(first.account, org_id=record.org_id))
    if earlier.api == record.api:
        put(store, earlier)
    put(store, record)
    assert get(store, record.api, record.org_id) == record


@settings(max_examples=30, deadline=None, suppress_health_check=SHARED_STORE)
@given(record=records, fault=st.none() | faults)
def test_set_fault_changes_only_the_fault(
    shared_store: Store, record: OrgRecord, fault: Fault | None
) -> None:
    """Setting an org's fault keeps its account, scenario and every ingest."""
    store = emptied(shared_store)
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


def test_state_survives_a_restart_on_the_same_state(state_backend: StateBackend) -> None:
    """A second store on the same state (a restarted server) sees records, ingests and clock."""
    where = state_backend.location()
    first = state_backend.open(where, seed=5)
    record = _kenbun()
    add(first, record, Ingest(NOW, 1234))
    clock = ClockState(frozen_at=NOW)
    with first.write() as state:
        state.set_clock(clock)
    first.close()

    again = state_backend.open(where, seed=5)
    assert get(again) == replace(record, ingests=(Ingest(NOW, 1234),))
    with again.read() as state:
        assert state.clock() == clock


def test_a_state_made_with_another_seed_is_refused_with_the_fix(
    state_backend: StateBackend,
) -> None:
    """One seed's orgs are not mixed with another's: the error says which flag to pass."""
    where = state_backend.location()
    put(state_backend.open(where, seed=5), _kenbun())
    with pytest.raises(ConfigError) as caught:
        state_backend.open(where, seed=6)
    message = str(caught.value)
    assert where in message and "seed 5, not 6" in message
    assert "--seed 5" in message and "--state" in message


def test_a_file_that_is_not_a_database_is_refused_with_the_fix(tmp_path: Path) -> None:
    """A state path holding something else names the file and suggests another --state."""
    path = tmp_path / "notes.txt"
    path.write_text("this is not SQLite\n" * 100)
    with pytest.raises(ConfigError, match="--state :memory:") as caught:
        SQLiteStore(path, seed=0)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("content", [b"\n", b"x", b"notes", b"SQLite format 2\x00" + b"x" * 200])
def test_a_file_that_is_no_database_is_refused_and_kept(tmp_path: Path, content: bytes) -> None:
    """--state naming someone's file: one sentence, and the file as it was.

    SQLite alone took a 1-byte file for an empty database and wrote one over it.
    """
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=r"cannot be used \(file is not a database\); pass"):
        SQLiteStore(path, seed=0)
    assert path.read_bytes() == content


def test_a_failed_write_transaction_changes_nothing(state_backend: StateBackend) -> None:
    """A write transaction left by an exception is rolled back whole."""
    store = state_backend.store()
    add(store, _kenbun(), Ingest(NOW, 1))
    with pytest.raises(RuntimeError), store.write() as state:
        state.add_ingest("kenbun", "org_a", Ingest(NOW, 2))
        state.set_clock(ClockState(frozen_at=NOW))
        raise RuntimeError("changed my mind")
    assert get(store) == replace(_kenbun(), ingests=(Ingest(NOW, 1),))
    with store.read() as state:
        assert state.clock() == ClockState()


def test_a_read_snapshot_does_not_see_a_later_commit(state_backend: StateBackend) -> None:
    """A read transaction sees one version of the state: a write committed meanwhile stays out."""
    where = state_backend.location()
    reader, writer = state_backend.open(where), state_backend.open(where)
    add(writer, _kenbun(), Ingest(NOW, 1))
    with reader.read() as state:
        before = state.get("kenbun", "org_a")
        add(writer, _kenbun(), Ingest(NOW, 2))
        assert state.get("kenbun", "org_a") == before
    assert get(reader) == replace(_kenbun(), ingests=(Ingest(NOW, 1), Ingest(NOW, 2)))


def test_reset_forgets_one_org_and_clear_forgets_the_named_apis_but_not_the_clock(
    state_backend: StateBackend,
) -> None:
    """Deleting reports whether the org had a record; clearing forgets the named APIs' orgs."""
    store = state_backend.store()
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
        state.clear(["timbal"])  # only the APIs named: another API's records stay
    assert get(store) == replace(_kenbun("org_a"), ingests=(Ingest(NOW, 1),))
    with store.write() as state:
        state.clear(["timbal", "kenbun"])
    with store.read() as state:
        assert state.orgs() == []
        assert state.clock() == ClockState(offset=timedelta(days=3))


def test_an_untouched_store_follows_real_time(state_backend: StateBackend) -> None:
    """Until someone sets it, the stored clock is real time: not frozen, no offset."""
    with state_backend.store().read() as state:
        assert state.clock() == ClockState()


def test_ingest_times_keep_their_microseconds_and_order(state_backend: StateBackend) -> None:
    """An ingest a microsecond after another is stored as such and read back in time order."""
    store = state_backend.store()
    add(store, _kenbun(), Ingest(NOW + timedelta(microseconds=1), 2), Ingest(NOW, 1))
    stored = get(store)
    assert stored is not None
    assert [(i.at, i.amount) for i in stored.ingests] == [
        (NOW, 1),
        (NOW + timedelta(microseconds=1), 2),
    ]


def test_a_nested_transaction_is_refused_not_a_hang(state_backend: StateBackend) -> None:
    """Opening a transaction inside another on one store fails at once instead of deadlocking."""
    store = state_backend.store()
    refusals = (sqlite3.OperationalError, RuntimeError)  # SQLite's own, or the store's
    with store.write(), pytest.raises(refusals, match="within a transaction"):
        store.write().__enter__()
    put(store, _kenbun())
    assert get(store) == _kenbun()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("postgresql://me:s3cret@db.example:port/state", "port 'port' is not a port number"),
        ("postgresql://me:s3cret@db.example:99999/state", "port '99999' is not a port number"),
        ("postgresql://me:s3cret@db.example/state?colour=red", "invalid URI query parameter"),
        ("postgresql://me:s3cret@[::1/state", "IPv6 host address"),
    ],
)
def test_a_postgres_url_that_cannot_work_is_refused_with_the_fix(url: str, why: str) -> None:
    """A malformed URL gets one sentence with the reason and the expected form, no password."""
    with pytest.raises(ConfigError) as caught:
        open_store(url, seed=0)
    message = str(caught.value)
    assert why in message and "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE" in message
    assert "s3cret" not in message and "me:***@" in message


def test_a_postgres_server_that_is_down_is_refused_with_the_fix() -> None:
    """Nothing listening at the URL: one sentence naming the database and what to check."""
    url = f"postgresql://me:s3cret@127.0.0.1:{free_port()}/state"
    with pytest.raises(ConfigError, match="start the server, or fix --state") as caught:
        open_store(url, seed=0)
    assert "127.0.0.1" in str(caught.value) and "s3cret" not in str(caught.value)


@pytest.mark.postgres
def test_a_postgres_store_opened_with_wait_does_nothing_in_the_background(
    postgres_backend: StateBackend,
) -> None:
    """Transactions one at a time on a store opened with ``wait`` start no pool growth.

    Growth runs in the pool's own threads and calls the global random(); in the middle of a
    hypothesis example that is a flaky HypothesisDeprecationWarning (CI failed on one).
    """
    store = postgres_backend.store()  # opened with wait=True, as every test's store
    before = random.getstate()
    for _ in range(20):
        put(store, _kenbun())
        get(store)
    time.sleep(0.2)  # a growing pool connects within milliseconds on loopback
    assert random.getstate() == before


@pytest.mark.postgres
def test_postgres_state_survives_a_server_restart(
    postgres_backend: StateBackend, postgres_cluster: Cluster
) -> None:
    """Stores keep working after the server restarts: pooled connections to it are replaced."""
    store = postgres_backend.store()
    try:
        add(store, _kenbun(), Ingest(NOW, 1))
        postgres_cluster.stop()
        with pytest.raises(StateUnavailable, match=r"unavailable .*retry"), store.read() as state:
            state.get("kenbun", "org_a")
        postgres_cluster.start()
        add(store, _kenbun(), Ingest(NOW, 2))
        assert get(store) == replace(_kenbun(), ingests=(Ingest(NOW, 1), Ingest(NOW, 2)))
    finally:
        if not postgres_cluster.running():
            postgres_cluster.start()


@pytest.mark.postgres
def test_postgres_data_version_changes_with_every_write_of_any_replica(
    postgres_backend: StateBackend,
) -> None:
    """The change token moves when another store on the database writes, and only then."""
    where = postgres_backend.location()
    mine, theirs = postgres_backend.open(where), postgres_backend.open(where)
    assert isinstance(mine, PostgresStore) and isinstance(theirs, PostgresStore)
    before = mine.data_version()
    get(mine)
    assert mine.data_version() == before
    put(theirs, _kenbun())
    after = mine.data_version()
    assert after != before
    with theirs.write() as state:
        state.set_clock(ClockState(frozen_at=NOW))
    assert mine.data_version() not in (before, after)


@pytest.mark.postgres
def test_replicas_starting_at_once_migrate_the_schema_once(
    postgres_backend: StateBackend,
) -> None:
    """Eight stores opened in parallel on a new database all start, on one schema."""
    where = postgres_backend.location()
    opened: list[Store] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(postgres_backend.open(where, seed=3))
        except BaseException as exc:  # handed to the test thread below
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    put(opened[0], _kenbun())
    assert all(get(store) == _kenbun() for store in opened)


@pytest.mark.postgres
def test_a_postgres_user_who_may_not_create_tables_is_refused_with_the_fix(
    postgres_cluster: Cluster,
) -> None:
    """A database the user may connect to but not create tables in: one sentence, the fix."""
    where = postgres_cluster.new_database()
    with psycopg.connect(where, autocommit=True) as conn:
        conn.execute("CREATE ROLE reader LOGIN")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    reader = where.replace("usagemock@", "reader@")
    with pytest.raises(ConfigError, match="whose user may create tables") as caught:
        open_store(reader, seed=0)
    assert "permission denied" in str(caught.value)


@pytest.mark.postgres
def test_a_postgres_schema_from_a_newer_usagemock_is_refused_with_the_fix(
    postgres_backend: StateBackend,
) -> None:
    """State a later usagemock migrated further is not touched: the error says to upgrade."""
    where = postgres_backend.location()
    put(postgres_backend.open(where), _kenbun())
    with psycopg.connect(where, autocommit=True) as conn:
        conn.execute("UPDATE usagemock_meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(ConfigError, match=r"newer version .*schema 99.*upgrade usagemock"):
        postgres_backend.open(where)
