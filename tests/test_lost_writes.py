"""Writes racing from several connections to one state all survive, on every store backend.

Each thread has an engine over its own store on the same state (an SQLite file or a PostgreSQL
database), as each worker process of ``usagemock serve --workers N`` or each replica does; a
barrier starts them together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from tests.conftest import FIXED_NOW, StateBackend
from usagemock.domain.clock import parse_step
from usagemock.domain.faults import Fault
from usagemock.engine import Engine
from usagemock.scenarios import load_scenarios

SCENARIOS = load_scenarios()
THREADS = 4


def engines(backend: StateBackend, count: int = THREADS) -> list[Engine]:
    """``count`` engines, each with a store of its own on one new state."""
    where = backend.location()
    return [
        Engine(backend.open(where), SCENARIOS, seed=0, real_clock=lambda: FIXED_NOW)
        for _ in range(count)
    ]


def race(jobs: list[Callable[[], None]]) -> None:
    """Run each job in its own thread, all released at once; re-raise the first failure."""
    start = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        start.wait()
        try:
            job()
        except BaseException as exc:  # handed to the test thread below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def test_parallel_clock_advances_all_count(state_backend: StateBackend) -> None:
    """Four connections advancing the clock 50 times each by one hour move it exactly 200 h."""
    workers = engines(state_backend)
    workers[0].set_now(FIXED_NOW, frozen=True)
    hour = parse_step("PT1H")

    def advance(engine: Engine) -> Callable[[], None]:
        return lambda: [engine.advance(hour) for _ in range(50)] and None

    race([advance(engine) for engine in workers])
    assert workers[0].now() == FIXED_NOW + timedelta(hours=50 * THREADS)


def test_freezing_never_undoes_a_parallel_advance(state_backend: StateBackend) -> None:
    """Freezing (a no-op on a frozen clock) racing advances never writes back a stale moment."""
    first, second = engines(state_backend, 2)
    first.set_now(FIXED_NOW, frozen=True)
    minute = parse_step("PT1M")

    race(
        [
            lambda: [first.advance(minute) for _ in range(100)] and None,
            lambda: [second.freeze(True) for _ in range(100)] and None,
        ]
    )
    assert first.now() == FIXED_NOW + timedelta(minutes=100)


def test_fault_writes_never_drop_parallel_ingests(state_backend: StateBackend) -> None:
    """Setting and clearing an org's fault while others ingest into it keeps every ingest."""
    workers = engines(state_backend)
    ingesters, faulter = workers[:-1], workers[-1]
    amounts = {engine: [1000 * n + i for i in range(60)] for n, engine in enumerate(ingesters)}

    def ingest(engine: Engine) -> Callable[[], None]:
        return lambda: [engine.ingest("kenbun", "org_x", a) for a in amounts[engine]] and None

    def faults() -> None:
        for i in range(60):
            faulter.set_fault("kenbun", "org_x", Fault(latency_ms=i) if i % 3 else None)

    race([*(ingest(engine) for engine in ingesters), faults])
    stored = faulter.record("kenbun", "org_x")
    assert sorted(i.amount for i in stored.ingests) == sorted(
        a for mine in amounts.values() for a in mine
    )
    assert stored.fault == Fault(latency_ms=59)


def test_scenario_applies_and_ingests_serialize(state_backend: StateBackend) -> None:
    """An ingest racing scenario applies is either kept or erased by a later apply, never lost.

    Every ingest's own answer shows the record it went into; each one made after the last
    apply must still be there at the end.
    """
    workers = engines(state_backend, 2)
    ingester, applier = workers
    seen: list[tuple[int, str | None]] = []

    def ingests() -> None:
        for i in range(80):
            record = ingester.ingest("timbal", "org_y", 7_000 + i)
            seen.append((7_000 + i, record.scenario))

    def applies() -> None:
        for name in ("heavy_overage", "at_limit", "cap_reached", "unlimited_cap"):
            applier.apply_scenario("timbal", "org_y", name)

    race([ingests, applies])
    final = applier.record("timbal", "org_y")
    kept = {i.amount for i in final.ingests}
    after_last = {amount for amount, scenario in seen if scenario == "unlimited_cap"}
    assert final.scenario == "unlimited_cap"
    assert {amount for amount in kept if amount >= 7_000 and amount < 7_080} == after_last
