"""Named scenarios: an org's initial state plus an optional timeline, loaded from YAML files.

A scenario file has a section per API it covers (the same idea, "slow" say, means different state
for each). Files are checked against :data:`SCENARIO_SCHEMA` when loaded; a bad file is refused
with its file, line and field, and the server does not start half-configured.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from usagemock.domain import kenbun, timbal
from usagemock.domain.clock import FIRST_YEAR, LAST_YEAR, MAX_STEP_YEARS, in_calendar, parse_step
from usagemock.domain.faults import Fault
from usagemock.domain.kenbun import KenbunAccount, KenbunPlan, SubscriptionStatus, Trial
from usagemock.domain.periods import isoformat
from usagemock.domain.records import MAX_INGESTED, OrgRecord
from usagemock.domain.timbal import TimbalAccount, TimbalPlan, threshold_credits
from usagemock.domain.usage import Ingest, UsageCurve
from usagemock.errors import FixtureError
from usagemock.yamlfile import load_checked


def bundled_folder() -> Path:
    """The scenarios that ship with usagemock: the checkout's, else the installed package's."""
    checkout = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parent / "scenarios"


_DURATION = {
    "type": "string",
    "pattern": r"^-?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?"
    r"(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$",
}
# Every count at most 10**15 and at most MAX_TIMELINE steps (our choice, as the admin API's
# Count): whatever a scenario adds up to stays far inside the APIs' int64 fields.
_COUNT = {"type": "integer", "minimum": 0, "maximum": 10**15}
_SHARE = {"type": "number", "minimum": 0, "maximum": 1000}
MAX_TIMELINE = 1000


def _closed(properties: Mapping[str, Any], *required: str) -> dict[str, Any]:
    """An object schema that takes exactly ``properties`` (a typo in a file is an error)."""
    schema = {"type": "object", "additionalProperties": False, "properties": dict(properties)}
    return schema | ({"required": list(required)} if required else {})


_FAULT = _closed(
    {
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "latency_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
        "jitter_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
    }
) | {  # a fault must do something (as the admin API's Fault): a status or some latency
    "anyOf": [
        {"required": ["status"]},
        {"required": ["latency_ms"], "properties": {"latency_ms": {"minimum": 1}}},
        {"required": ["jitter_ms"], "properties": {"jitter_ms": {"minimum": 1}}},
    ]
}
# What the API answers right after the scenario is applied; the contract kit checks it
# (usagemock.kit.expectations): a literal, or one comparison against a literal or "$field".
_EXPECT = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [
            {"type": ["string", "number", "boolean", "null"]},
            {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "propertyNames": {"enum": ["==", "!=", ">", ">=", "<", "<="]},
            },
        ]
    },
    "properties": {"status": {"type": "integer", "minimum": 200, "maximum": 599}},
}
_TIMELINE = {
    "type": "array",
    "maxItems": MAX_TIMELINE,
    "items": _closed({"after": _DURATION, "ingest": _COUNT}, "after", "ingest"),
}


_KENBUN = _closed(
    {
        "plan": _closed(
            {
                "free_tier_limit": _COUNT,
                "overage_unit": {"type": "integer", "minimum": 1},
                "overage_rate_cents": _COUNT,
            }
        ),
        "status": {"enum": [s.value for s in SubscriptionStatus]},
        "trial": _closed(
            {
                "ends_in": _DURATION,
                "then": {
                    "enum": [
                        s.value for s in SubscriptionStatus if s is not SubscriptionStatus.TRIALING
                    ]
                },
            },
            "ends_in",
            "then",
        ),
        "usage": {
            "oneOf": [
                _closed({"events": _COUNT}, "events"),
                _closed({"share_of_limit": _SHARE}, "share_of_limit"),
            ]
        },
        "organic_per_cycle": _COUNT,
        "timeline": _TIMELINE,
        "fault": _FAULT,
        "expect": _EXPECT,
    }
)
_TIMBAL = _closed(
    {
        "plan": _closed(
            {
                "metered": {"type": "boolean"},
                "included_credits": _COUNT,
                "overage_enabled": {"type": "boolean"},
                "rate_cents_per_1k": {"type": ["integer", "null"], "minimum": 1},
                "threshold_usd": {"type": ["integer", "null"], "minimum": 1},
                "cap_credits": {"type": ["integer", "null"], "minimum": 0},
            }
        ),
        "usage": {
            "oneOf": [
                _closed({"share_of_included": _SHARE}, "share_of_included"),
                _closed({"pending": _COUNT, "invoiced": _COUNT}, "pending"),
            ]
        },
        "organic_per_period": _COUNT,
        "timeline": _TIMELINE,
        "fault": _FAULT,
        "expect": _EXPECT,
    }
)
SCENARIO_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["description"],
    "anyOf": [{"required": ["kenbun"]}, {"required": ["timbal"]}],
    "properties": {
        "description": {"type": "string", "minLength": 1},
        "kenbun": _KENBUN,
        "timbal": _TIMBAL,
    },
}


@dataclass(frozen=True)
class Scenario:
    """A named state an org can be put into, for one or both APIs."""

    name: str
    description: str
    sections: Mapping[str, Mapping[str, Any]]
    """The state per API (``kenbun``, ``timbal``), as the file gives it."""
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
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
    for path in paths:
        if path.stem in scenarios:
            problems.append(
                f"{path}: scenario {path.stem!r} is also {scenarios[path.stem].source}; "
                "rename one of the files."
            )
            continue
        try:
            data = load_checked(path, SCENARIO_SCHEMA)
            _check_durations(path, data)
            scenario = Scenario(
                path.stem,
                data["description"],
                {api: data[api] for api in ("kenbun", "timbal") if api in data},
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
    for api in ("kenbun", "timbal"):
        section = data.get(api) or {}
        texts = [step["after"] for step in section.get("timeline", [])]
        texts += [section["trial"]["ends_in"]] if "trial" in section else []
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
    bases = {
        "kenbun": OrgRecord(kenbun.generate_account("org_scenario_check", 0)),
        "timbal": OrgRecord(timbal.generate_account("org_scenario_check", 0)),
    }
    for api in scenario.apis:
        for now in _EDGES:
            try:
                record = apply(scenario, bases[api], now)
                moments = [i.at for i in record.ingests]
                if isinstance(record.account, KenbunAccount):
                    kenbun.usage_at(record.account, now, record.ingests)
                    moments += [record.account.trial.ends_at] if record.account.trial else []
                else:
                    timbal.summarize(record.account, now, record.ingests)
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
    account: KenbunAccount | TimbalAccount
    if isinstance(base.account, KenbunAccount):
        account, ingests = _kenbun(base.account, section, now)
    else:
        account, ingests = _timbal(scenario.name, base.account, section, now)
    timeline = tuple(
        Ingest(now + parse_step(step["after"]), step["ingest"])
        for step in section.get("timeline", [])
    )
    fault = Fault(**section["fault"]) if "fault" in section else None
    return OrgRecord(account, (*ingests, *timeline), fault, scenario.name, now)


def _kenbun(
    base: KenbunAccount, section: Mapping[str, Any], now: datetime
) -> tuple[KenbunAccount, tuple[Ingest, ...]]:
    plan = KenbunPlan(
        **{
            "free_tier_limit": 500_000,
            "overage_unit": 10_000,
            "overage_rate_cents": 50,
            **section.get("plan", {}),
        }
    )
    trial = section.get("trial")
    account = replace(
        base,
        plan=plan,
        status=SubscriptionStatus(section.get("status", "trialing" if trial else "active")),
        trial=None
        if trial is None
        else Trial(now + parse_step(trial["ends_in"]), SubscriptionStatus(trial["then"])),
        curve=UsageCurve(section.get("organic_per_cycle", 0), 0, base.curve.seed, since=now),
    )
    usage = section.get("usage", {"events": 0})
    target = usage.get("events", math.ceil(usage.get("share_of_limit", 0) * plan.free_tier_limit))
    return account, _top_up(target, now)


def _timbal(
    name: str, base: TimbalAccount, section: Mapping[str, Any], now: datetime
) -> tuple[TimbalAccount, tuple[Ingest, ...]]:
    plan = TimbalPlan(
        **{
            "metered": True,
            "included_credits": 1_000_000,
            "overage_enabled": True,
            "rate_cents_per_1k": 10,
            "threshold_usd": None,
            "cap_credits": None,
            **section.get("plan", {}),
        }
    )
    # organic usage counts from now, so the scenario's numbers hold exactly when it is applied
    curve = UsageCurve(section.get("organic_per_period", 0), 0, base.curve.seed, since=now)
    account = replace(base, plan=plan, curve=curve)
    usage = section.get("usage", {"share_of_included": 0})
    if "share_of_included" in usage:
        return account, _top_up(math.ceil(usage["share_of_included"] * plan.included_credits), now)
    invoiced, pending = usage.get("invoiced", 0), usage["pending"]
    step = threshold_credits(plan)
    if invoiced and (step is None or invoiced < step):
        raise FixtureError(
            f"Scenario {name!r}: invoiced credits {invoiced} cannot have been "
            f"billed by an interim invoice (threshold: {step} credits)."
        )
    if step is not None and pending >= step:
        raise FixtureError(
            f"Scenario {name!r}: pending credits {pending} reach the interim "
            f"invoice threshold ({step} credits) and would be invoiced."
        )
    # In order at one moment: everything up to the invoiced part (one interim invoice bills it),
    # then the pending part, which stays below the threshold.
    return account, (*_top_up(plan.included_credits + invoiced, now), *_top_up(pending, now))


def _top_up(amount: int, at: datetime) -> tuple[Ingest, ...]:
    return (Ingest(at, amount),) if amount > 0 else ()
