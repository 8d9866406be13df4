"""Timbal's definition for the mock: accounts, the overage JSON, stored form and scenarios."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from usagemock.apis.api_definition import ApiDefinition
from usagemock.apis.api_facts import ApiFacts
from usagemock.apis.sections import COUNT, SHARE, closed, top_up
from usagemock.apis.timbal.account import (
    OverageSummary,
    TimbalAccount,
    TimbalPlan,
    generate_account,
    summarize,
    threshold_credits,
)
from usagemock.apis.timbal.facts import FACTS
from usagemock.domain.periods import isoformat
from usagemock.domain.records import curve_from_json, parse_stamp, stamp
from usagemock.domain.usage import Ingest, UsageCurve
from usagemock.error_bodies import code_and_message
from usagemock.errors import FixtureError

_SECTION = {
    "plan": closed(
        {
            "metered": {"type": "boolean"},
            "included_credits": COUNT,
            "overage_enabled": {"type": "boolean"},
            "rate_cents_per_1k": {"type": ["integer", "null"], "minimum": 1},
            "threshold_usd": {"type": ["integer", "null"], "minimum": 1},
            "cap_credits": {"type": ["integer", "null"], "minimum": 0},
        }
    ),
    "usage": {
        "oneOf": [
            closed({"share_of_included": SHARE}, "share_of_included"),
            closed({"pending": COUNT, "invoiced": COUNT}, "pending"),
        ]
    },
    "organic_per_period": COUNT,
}
_COUNT_REF = {"$ref": "#/components/schemas/Count"}
_POSITIVE_OR_NULL = {"oneOf": [{"type": "null"}, {"allOf": [_COUNT_REF], "minimum": 1}]}
_RECORD = {
    "required": ["plan", "anchor"],
    "properties": {
        "anchor": {"$ref": "#/components/schemas/RecordMoment"},
        "plan": {
            "type": "object",
            "required": [
                "metered",
                "included_credits",
                "overage_enabled",
                "rate_cents_per_1k",
                "threshold_usd",
                "cap_credits",
            ],
            "additionalProperties": False,
            "properties": {
                "metered": {"type": "boolean"},
                "included_credits": _COUNT_REF,
                "overage_enabled": {"type": "boolean"},
                "rate_cents_per_1k": _POSITIVE_OR_NULL,
                "threshold_usd": _POSITIVE_OR_NULL,
                "cap_credits": {"oneOf": [{"type": "null"}, _COUNT_REF]},
            },
        },
    },
}


def overage_body(summary: OverageSummary) -> dict[str, Any]:
    """``OverageSummary`` as the Timbal spec shapes it."""
    period = summary.period
    return {
        "enabled": summary.enabled,
        "cap_credits": summary.cap_credits,
        "used_credits": summary.used_credits,
        "invoiced_credits": summary.invoiced_credits,
        "pending_credits": summary.pending_credits,
        "period_start": isoformat(period.start) if period else None,
        "period_end": isoformat(period.end) if period else None,
        "rate_cents_per_1k": summary.rate_cents_per_1k,
        "threshold_usd": summary.threshold_usd,
    }


class TimbalDefinition:
    """Timbal for the mock (see :class:`usagemock.apis.api_definition.ApiDefinition`)."""

    facts: ApiFacts = FACTS
    operation_id = "get"
    scenario_section: Mapping[str, Any] = _SECTION
    record_schema: Mapping[str, Any] = _RECORD

    def generate(self, org_id: str, seed: int, name: str | None) -> TimbalAccount:
        """The generated account; Timbal orgs have no name, so ``name`` is not used."""
        return generate_account(org_id, seed)

    def answer(
        self, account: TimbalAccount, now: datetime, ingests: Sequence[Ingest]
    ) -> dict[str, Any]:
        """``GET /orgs/{org_id}/billing/overage`` at ``now``."""
        return overage_body(summarize(account, now, ingests))

    def moments(self, account: TimbalAccount) -> tuple[datetime, ...]:
        """None: the period anchor is the generator's, never a scenario's."""
        return ()

    def account_json(self, account: TimbalAccount) -> dict[str, Any]:
        """``plan`` and ``anchor``."""
        return {"plan": vars(account.plan), "anchor": stamp(account.anchor)}

    def account_from_json(self, data: Mapping[str, Any]) -> TimbalAccount:
        """The account of a stored ``TimbalRecord``."""
        return TimbalAccount(
            org_id=data["org_id"],
            plan=TimbalPlan(**data["plan"]),
            anchor=parse_stamp(data["anchor"]),
            curve=curve_from_json(data["organic"]),
        )

    def durations(self, section: Mapping[str, Any]) -> Sequence[str]:
        """None: only the timeline has durations."""
        return ()

    def apply_section(
        self, scenario: str, base: TimbalAccount, section: Mapping[str, Any], now: datetime
    ) -> tuple[TimbalAccount, tuple[Ingest, ...]]:
        """Plan, organic usage from ``now``, and the ingests that make the section's usage."""
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
            return account, top_up(
                math.ceil(usage["share_of_included"] * plan.included_credits), now
            )
        invoiced, pending = usage.get("invoiced", 0), usage["pending"]
        step = threshold_credits(plan)
        if invoiced and (step is None or invoiced < step):
            raise FixtureError(
                f"Scenario {scenario!r}: invoiced credits {invoiced} cannot have been "
                f"billed by an interim invoice (threshold: {step} credits)."
            )
        if step is not None and pending >= step:
            raise FixtureError(
                f"Scenario {scenario!r}: pending credits {pending} reach the interim "
                f"invoice threshold ({step} credits) and would be invoiced."
            )
        # In order at one moment: everything up to the invoiced part (one interim invoice bills
        # it), then the pending part, which stays below the threshold.
        return account, (*top_up(plan.included_credits + invoiced, now), *top_up(pending, now))

    def error_body(self, status: int, detail: str) -> tuple[bytes, str]:
        """Timbal's ``ErrorMessage``: a machine code such as ``FORBIDDEN`` and a message."""
        return code_and_message(status, detail)


DEFINITION: ApiDefinition[TimbalAccount] = TimbalDefinition()
