"""The stateful mock: resolves each org's record and moves it through time.

An org's record comes from, in order: a scenario asked for on this request; the stored record
(anything the admin API, a fixture or a default scenario put there); else the org as generated
from the seed. Evaluating a record at the clock's ``now`` gives what the APIs report, so
periods roll over, trials end and timelines play out without background work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from usagemock.domain import kenbun, timbal
from usagemock.domain.clock import ClockState, Step
from usagemock.domain.faults import Fault
from usagemock.domain.records import OrgRecord
from usagemock.domain.usage import Ingest
from usagemock.errors import UsageMockError
from usagemock.scenarios import Scenario, apply
from usagemock.store import Store


def real_time() -> datetime:
    """The machine's time, in UTC."""
    return datetime.now(UTC)


class UnknownScenario(UsageMockError):
    """A scenario name that is not loaded."""


class Engine:
    """Org records, scenarios and the shared clock, over a :class:`Store`."""

    def __init__(
        self,
        store: Store,
        scenarios: Mapping[str, Scenario],
        *,
        seed: int,
        default_scenario: str | None = None,
        real_clock: Callable[[], datetime] = real_time,
    ) -> None:
        self.store = store
        self.scenarios = dict(scenarios)
        self.seed = seed
        self.default_scenario = default_scenario
        self._real = real_clock
        if default_scenario is not None:
            self.scenario(default_scenario)

    # -- time -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The mock's current time (shared by every worker)."""
        return self.store.clock().now(self._real())

    def clock(self) -> ClockState:
        """The shared clock."""
        return self.store.clock()

    def set_now(self, moment: datetime, *, frozen: bool | None = None) -> ClockState:
        """Show ``moment`` now; ``frozen`` True stops the clock there, False lets it run."""
        real = self._real()
        clock = self.store.clock().set(moment, real)
        if frozen is True:
            clock = clock.freeze(real)
        elif frozen is False:
            clock = clock.resume(real)
        self.store.set_clock(clock)
        return clock

    def advance(self, step: Step) -> ClockState:
        """Move the clock by ``step`` (an ISO 8601 duration, parsed)."""
        clock = self.store.clock().advance(step, self._real())
        self.store.set_clock(clock)
        return clock

    def freeze(self, frozen: bool) -> ClockState:
        """Stop the clock at the moment it shows, or let it run again."""
        real = self._real()
        current = self.store.clock()
        clock = current.freeze(real) if frozen else current.resume(real)
        self.store.set_clock(clock)
        return clock

    # -- records ----------------------------------------------------------------------------

    def scenario(self, name: str) -> Scenario:
        """A loaded scenario, or :class:`UnknownScenario` naming the ones there are."""
        try:
            return self.scenarios[name]
        except KeyError:
            raise UnknownScenario(
                f"No scenario named {name!r}; loaded: {', '.join(sorted(self.scenarios))}."
            ) from None

    def generated(self, api: str, org_id: str, name: str | None = None) -> OrgRecord:
        """The org as the seed makes it, before anyone changed it."""
        if api == "kenbun":
            return OrgRecord(kenbun.generate_account(org_id, self.seed, name))
        return OrgRecord(timbal.generate_account(org_id, self.seed))

    def record(
        self,
        api: str,
        org_id: str,
        *,
        name: str | None = None,
        scenario: str | None = None,
        first_scenario: str | None = None,
    ) -> OrgRecord:
        """The record the API answers from (see the module docstring for the order).

        ``scenario`` applies just for this request (nothing is stored); ``first_scenario`` (from
        the fixtures file) or the server's default scenario is applied and stored the first time
        the org is seen, so its timeline counts from then.
        """
        if scenario is not None:
            return apply(self.scenario(scenario), self.generated(api, org_id, name), self.now())
        stored = self.store.get(api, org_id)
        if stored is not None:
            return stored
        initial = first_scenario or self.default_scenario
        if initial is None or api not in self.scenario(initial).sections:
            return self.generated(api, org_id, name)
        record = apply(self.scenario(initial), self.generated(api, org_id, name), self.now())
        return self.store.create(record)

    def apply_scenario(self, api: str, org_id: str, name: str) -> OrgRecord:
        """Put an org into a scenario from now on (its timeline counts from now)."""
        base = self.store.get(api, org_id) or self.generated(api, org_id)
        return self.replace_record(apply(self.scenario(name), base, self.now()))

    def ingest(self, api: str, org_id: str, amount: int, at: datetime | None = None) -> OrgRecord:
        """Add usage (Kenbun events, Timbal credits) to an org, now or at ``at``."""
        self.store.add_ingest(self.record(api, org_id), Ingest(at or self.now(), amount))
        return self.store.get(api, org_id) or self.record(api, org_id)

    def replace_record(self, record: OrgRecord) -> OrgRecord:
        """Store ``record`` whole."""
        self.store.put(record)
        return record

    def set_fault(self, api: str, org_id: str, fault: Fault | None) -> OrgRecord:
        """Inject (or with None, clear) a fault on one org."""
        record = replace(self.record(api, org_id), fault=fault)
        self.store.put(record)
        return record

    def reset(self, api: str, org_id: str) -> bool:
        """Forget what was done to one org; whether anything was."""
        return self.store.delete(api, org_id)

    def reset_all(self) -> None:
        """Forget what was done to every org."""
        self.store.clear()
