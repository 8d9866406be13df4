"""The stateful mock: resolves each org's record and moves it through time.

An org's record comes from, in order: a scenario asked for on this request; the stored record
(anything the admin API, a fixture or a default scenario put there); else the org as it starts:
generated from the seed, with the name its fixture gives it, in its first scenario (the
fixture's, else the token's, else the server's). Evaluating a record at the clock's ``now``
gives what the APIs report, so periods roll over, trials end and timelines play out without
background work.

Every change is one store write transaction that reads what it builds on (the clock, the
org's record) inside it, so changes from several workers serialize and none is lost; an org
that has no record yet gets its starting record in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from usagemock.apis import definition, names
from usagemock.domain.clock import FIRST_YEAR, LAST_YEAR, ClockState, Step, in_calendar
from usagemock.domain.faults import Fault
from usagemock.domain.periods import isoformat
from usagemock.domain.records import MAX_INGESTED, OrgRecord
from usagemock.domain.usage import Ingest
from usagemock.errors import UsageMockError
from usagemock.readcache import ReadCache
from usagemock.scenarios import Scenario, apply
from usagemock.store import State, Store


def real_time() -> datetime:
    """The machine's time, in UTC."""
    return datetime.now(UTC)


class UnknownScenario(UsageMockError):
    """A scenario name that is not loaded."""


class StateConflict(UsageMockError):
    """A well-formed change the org's current state cannot take (nothing was changed)."""


@dataclass(frozen=True)
class OrgFixture:
    """What a fixtures file says about one org id (for every API)."""

    name: str | None = None
    """The org's name instead of a generated one (for an API whose orgs have names)."""
    scenario: str | None = None
    """The scenario the org starts in, applied when it first gets a record."""


_NO_FIXTURE = OrgFixture()
MAX_GENERATED = 4096  # generated records an engine keeps; past it, it starts again


class Engine:
    """Org records, scenarios and the shared clock, over a :class:`Store`."""

    def __init__(
        self,
        store: Store,
        scenarios: Mapping[str, Scenario],
        *,
        seed: int,
        default_scenario: str | None = None,
        fixtures: Mapping[str, OrgFixture] | None = None,
        real_clock: Callable[[], datetime] = real_time,
    ) -> None:
        self.store = store
        self._reads = ReadCache(store)  # a request's two reads, without a transaction each
        self._generated: dict[tuple[str, str], OrgRecord] = {}  # this engine's APIs' orgs
        self.scenarios = dict(scenarios)
        self.seed = seed
        self.default_scenario = default_scenario
        self.fixtures = dict(fixtures or {})
        self._real = real_clock
        if default_scenario is not None:
            self.scenario(default_scenario)

    # -- time -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The mock's current time (shared by every worker)."""
        return self.shows(self.clock())

    def shows(self, clock: ClockState) -> datetime:
        """The moment ``clock`` shows now."""
        return clock.now(self._real())

    def clock(self) -> ClockState:
        """The shared clock."""
        return self._reads.clock()

    def _move(self, change: Callable[[ClockState, datetime], ClockState]) -> ClockState:
        """Replace the clock with ``change(clock, real time)``, in one transaction."""
        with self.store.write() as state:
            clock = change(state.clock(), self._real())
            state.set_clock(clock)
        return clock

    def set_now(self, moment: datetime, *, frozen: bool | None = None) -> ClockState:
        """Show ``moment`` now; ``frozen`` True stops the clock there, False lets it run."""

        def change(clock: ClockState, real: datetime) -> ClockState:
            clock = clock.set(moment, real)
            if frozen is None:
                return clock
            return clock.freeze(real) if frozen else clock.resume(real)

        return self._move(change)

    def advance(self, step: Step) -> ClockState:
        """Move the clock by ``step`` (an ISO 8601 duration, parsed), within the calendar.

        Checked inside the write, so parallel advances cannot together step past the calendar.
        """

        def change(clock: ClockState, real: datetime) -> ClockState:
            shown = clock.now(real)
            try:
                fits = in_calendar(shown + step)
            except (OverflowError, ValueError):  # a step past what a datetime can hold
                fits = False
            if not fits:
                raise StateConflict(
                    f"Advancing the clock ({isoformat(shown)}) that far would leave "
                    f"the mock's calendar (years {FIRST_YEAR} to {LAST_YEAR}); use a shorter step."
                )
            return clock.advance(step, real)

        return self._move(change)

    def reset_clock(self) -> ClockState:
        """Follow real time again, running: undo every set, freeze and advance."""
        return self._move(lambda clock, real: ClockState())

    def freeze(self, frozen: bool) -> ClockState:
        """Stop the clock at the moment it shows, or let it run again."""
        return self._move(lambda clock, real: clock.freeze(real) if frozen else clock.resume(real))

    # -- records ----------------------------------------------------------------------------

    def scenario(self, name: str) -> Scenario:
        """A loaded scenario, or :class:`UnknownScenario` naming the ones there are."""
        try:
            return self.scenarios[name]
        except KeyError:
            raise UnknownScenario(
                f"No scenario named {name!r}; loaded: {', '.join(sorted(self.scenarios))}."
            ) from None

    def generated(self, api: str, org_id: str) -> OrgRecord:
        """The org as the seed makes it, with the name its fixture gives it, before any change."""
        key = (api, org_id)
        record = self._generated.get(key)
        if record is None:  # an org that nothing changed is read on every request: make it once
            if len(self._generated) >= MAX_GENERATED:
                self._generated.clear()
            name = self._fixture(org_id).name
            record = self._generated[key] = OrgRecord(
                definition(api).generate(org_id, self.seed, name)
            )
        return record

    def _fixture(self, org_id: str) -> OrgFixture:
        return self.fixtures.get(org_id, _NO_FIXTURE)

    def _first_scenario(self, api: str, org_id: str, token_scenario: str | None) -> str | None:
        """The scenario an org starts in (its fixture's, the token's, the server's), if for api."""
        name = self._fixture(org_id).scenario or token_scenario or self.default_scenario
        return name if name is not None and api in self.scenario(name).sections else None

    def _starting(self, base: OrgRecord, first_scenario: str | None, now: datetime) -> OrgRecord:
        """``base`` in its first scenario from ``now``, if it has one."""
        if first_scenario is None:
            return base
        return apply(self.scenario(first_scenario), base, now)

    def record(self, api: str, org_id: str) -> OrgRecord:
        """The record the API answers from, no scenario asked (see :meth:`answering`)."""
        return self.answering(api, org_id)[0]

    def answering(
        self,
        api: str,
        org_id: str,
        *,
        scenario: str | None = None,
        token_scenario: str | None = None,
    ) -> tuple[OrgRecord, datetime]:
        """The record the API answers from (see the module docstring for the order), and now.

        Both come from one version of the state. ``scenario`` applies just for this request
        (nothing is stored); ``token_scenario`` is the scenario the request's token starts orgs
        in. An org whose start is a scenario gets it stored the first time it is seen, so its
        timeline counts from then.
        """
        clock, stored = self._reads.clock_and_record(api, org_id)
        now = self.shows(clock)
        if scenario is not None:
            return apply(self.scenario(scenario), self.generated(api, org_id), now), now
        if stored is not None:
            return stored, now
        if self._first_scenario(api, org_id, token_scenario) is None:
            return self.generated(api, org_id), now
        started = self._change(api, org_id, lambda state, current, now: None, token_scenario)
        return started, self.now()  # its scenario starts at the write's now, after ``now``

    def _change(
        self,
        api: str,
        org_id: str,
        change: Callable[[State, OrgRecord, datetime], None],
        token_scenario: str | None = None,
    ) -> OrgRecord:
        """Run ``change(state, current record, now)`` in one transaction; the record after it.

        An org without a record first gets its starting record, in the same transaction.
        """
        first = self._first_scenario(api, org_id, token_scenario)
        with self.store.write() as state:
            now = self.shows(state.clock())
            current = state.get(api, org_id)
            if current is None:
                current = self._starting(self.generated(api, org_id), first, now)
                state.put(current)
            change(state, current, now)
            return state.get(api, org_id) or current

    def apply_scenario(self, api: str, org_id: str, name: str) -> OrgRecord:
        """Put an org into a scenario from now on (its timeline counts from now)."""
        scenario = self.scenario(name)
        return self._change(
            api, org_id, lambda state, current, now: state.put(apply(scenario, current, now))
        )

    def ingest(self, api: str, org_id: str, amount: int, at: datetime | None = None) -> OrgRecord:
        """Add usage (whatever the API counts: events, credits) to an org, now or at ``at``.

        The org's ingests stay within :data:`MAX_INGESTED` in all, so every sum the APIs report
        fits their int64 fields; checked inside the write, so parallel ingests cannot both pass.
        """

        def add(state: State, current: OrgRecord, now: datetime) -> None:
            held = sum(ingest.amount for ingest in current.ingests)
            if held + amount > MAX_INGESTED:
                raise StateConflict(
                    f"{api}/{org_id} holds {held} ingested already; {amount} more would pass "
                    f"the {MAX_INGESTED} an org may hold. Reset the org or ingest less."
                )
            state.add_ingest(api, org_id, Ingest(at or now, amount))

        return self._change(api, org_id, add)

    def replace_record(self, record: OrgRecord) -> OrgRecord:
        """Store ``record`` whole."""
        with self.store.write() as state:
            state.put(record)
        return record

    def set_fault(self, api: str, org_id: str, fault: Fault | None) -> OrgRecord:
        """Inject (or with None, clear) a fault on one org; nothing else of it changes."""
        return self._change(
            api, org_id, lambda state, current, now: state.set_fault(api, org_id, fault)
        )

    def orgs(self) -> list[tuple[str, str]]:
        """(api, org_id) of every org with a stored record."""
        with self.store.read() as state:
            return state.orgs()

    def is_stored(self, api: str, org_id: str) -> bool:
        """Whether the org has a stored record (anything changed it)."""
        with self.store.read() as state:
            return state.get(api, org_id) is not None

    def reset(self, api: str, org_id: str) -> bool:
        """Forget what was done to one org; whether anything was."""
        with self.store.write() as state:
            return state.delete(api, org_id)

    def reset_all(self) -> None:
        """Forget what was done to every org of a registered API.

        A state file may hold another program's API (one it registers): its records stay, for
        that program to serve again.
        """
        with self.store.write() as state:
            state.clear(names())
