"""Named scenarios: an org's initial state plus an optional timeline, loaded from YAML files.

A scenario file has a section per API it covers (the same idea, "slow" say, means different state
for each). Files are checked against :data:`SCENARIO_SCHEMA` when loaded; a bad file is refused
with its file, line and field, and the server does not start half-configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from usagemock.apis import definition, names
from usagemock.apis.sections import section_schema
from usagemock.domain.clock import FIRST_YEAR, LAST_YEAR, MAX_STEP_YEARS, in_calendar, parse_step
from usagemock.domain.faults import Fault
from usagemock.domain.periods import isoformat
from usagemock.domain.records import MAX_INGESTED, OrgRecord
from usagemock.domain.usage import Ingest
from usagemock.errors import FixtureError
from usagemock.yamlfile import load_checked


def bundled_folder() -> Path:
    """The scenarios that ship with usagemock: the checkout's, else the installed package's."""
    checkout = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parent / "scenarios"


def scenario_schema() -> dict[str, Any]:
    """What a scenario file holds: a description and a section per registered API it covers."""
    apis = names()
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["description"],
        "anyOf": [{"required": [api]} for api in apis],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            **{api: section_schema(definition(api).scenario_section) for api in apis},
        },
    }


@dataclass(frozen=True)
class Scenario:
    """A named state an org can be put into, for one or both APIs."""

    name: str
    description: str
    sections: Mapping[str, Mapping[str, Any]]
    """The state per API (by its name), as the file gives it."""
    source: Path

    @property
    def apis(self) -> tuple[str, ...]:
        """The APIs this scenario covers."""
        return tuple(sorted(self.sections))

    def expectations(self, api: str) -> dict[str, Any]:
        """What ``api`` answers right after this scenario is applied (empty: nothing promised)."""
        return dict(self.sections.get(api, {}).get("expect", {}))


#: What a scenario file's name ends with, in any case: the files are UTF-8 YAML or JSON.
SUFFIXES = (".yaml", ".yml", ".json")


def load_scenarios(folder: Path | None = None) -> dict[str, Scenario]:
    """Every scenario file in ``folder`` (default: bundled), by name; all valid or none."""
    folder = folder or bundled_folder()
    if not folder.is_dir():
        raise FixtureError(f"{folder}: no such scenarios folder.")
    scenarios: dict[str, Scenario] = {}
    problems = []
    schema = scenario_schema()
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
    for path in paths:
        if path.stem in scenarios:
            problems.append(
                f"{path}: scenario {path.stem!r} is also {scenarios[path.stem].source}; "
                "rename one of the files."
            )
            continue
        try:
            data = load_checked(path, schema)
            _check_durations(path, data)
            scenario = Scenario(
                path.stem,
                data["description"],
                {api: data[api] for api in names() if api in data},
                path,
            )
            _rehearse(scenario)
        except FixtureError as exc:
            problems.append(str(exc))
            continue
        scenarios[path.stem] = scenario
    if problems:
        raise FixtureError("\n".join(problems))
    return scenarios


def with_user_scenarios(folder: Path | None) -> dict[str, Scenario]:
    """The bundled scenarios plus those in ``folder``, refusing a name both have."""
    scenarios = load_scenarios()
    if folder is None:
        return scenarios
    problems = []
    for name, scenario in load_scenarios(folder).items():
        if name in scenarios:
            problems.append(
                f"{scenario.source}: scenario {name!r} is bundled with usagemock "
                f"({scenarios[name].source}); rename the file to give yours another name."
            )
        else:
            scenarios[name] = scenario
    if problems:
        raise FixtureError("\n".join(problems))
    return scenarios


def _check_durations(path: Path, data: Mapping[str, Any]) -> None:
    for api in names():
        section = data.get(api) or {}
        texts = [step["after"] for step in section.get("timeline", [])]
        texts += definition(api).durations(section)
        for text in texts:
            try:
                parse_step(text)
            except ValueError as exc:
                raise FixtureError(f"{path}: {api}: {exc}") from None


# The calendar's first and last moments: a scenario that applies at both applies at any moment.
_EDGES = (
    datetime(FIRST_YEAR, 1, 1, tzinfo=UTC),
    datetime(LAST_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC),
)


def _rehearse(scenario: Scenario) -> None:
    """Apply ``scenario`` with :func:`apply` at both ends of the calendar, as a server would.

    Whatever a scenario makes is checked when its file loads, by the code that applies it: a
    scenario that loads never fails later, whether applied by the admin API, ``Prefer:`` or
    ``--scenario``, at any moment of the calendar.
    """
    for api in scenario.apis:
        api_definition = definition(api)
        base = OrgRecord(api_definition.generate("org_scenario_check", 0, None))
        for now in _EDGES:
            try:
                record = apply(scenario, base, now)
                api_definition.answer(record.account, now, record.ingests)
                moments = [i.at for i in record.ingests]
                moments += api_definition.moments(record.account)
            except (OverflowError, ValueError) as exc:
                raise FixtureError(
                    f"{scenario.source}: {api}: cannot be applied on {isoformat(now)[:10]} "
                    f"({exc}); keep every step within {MAX_STEP_YEARS} years."
                ) from None
            except FixtureError as exc:
                raise FixtureError(f"{scenario.source}: {api}: {exc}") from None
            late = [m for m in moments if not in_calendar(m, slack_years=MAX_STEP_YEARS)]
            if late:
                raise FixtureError(
                    f"{scenario.source}: {api}: applied on {isoformat(now)[:10]} it reaches "
                    f"{isoformat(late[0])[:10]}; keep every step within {MAX_STEP_YEARS} years."
                )
            total = sum(i.amount for i in record.ingests)
            if total > MAX_INGESTED:
                raise FixtureError(
                    f"{scenario.source}: {api}: its usage adds up to {total}, more than the "
                    f"{MAX_INGESTED} an org may hold; use smaller numbers."
                )


def apply(scenario: Scenario, base: OrgRecord, now: datetime) -> OrgRecord:
    """``base`` put into ``scenario`` at ``now``: its identity, the scenario's state, timeline."""
    section = scenario.sections.get(base.api)
    if section is None:
        raise FixtureError(
            f"Scenario {scenario.name!r} has nothing for {base.api}; it covers "
            f"{', '.join(scenario.apis)}."
        )
    account, ingests = definition(base.api).apply_section(scenario.name, base.account, section, now)
    timeline = tuple(
        Ingest(now + parse_step(step["after"]), step["ingest"])
        for step in section.get("timeline", [])
    )
    fault = Fault(**section["fault"]) if "fault" in section else None
    return OrgRecord(account, (*ingests, *timeline), fault, scenario.name, now)
