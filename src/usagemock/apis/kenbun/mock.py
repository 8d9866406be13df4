"""Kenbun's definition for the mock: accounts, the usage JSON, stored form and scenarios."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from usagemock.apis.api_definition import ApiDefinition
from usagemock.apis.api_facts import ApiFacts
from usagemock.apis.kenbun.account import (
    EventUsage,
    KenbunAccount,
    KenbunPlan,
    SubscriptionStatus,
    Trial,
    generate_account,
    usage_at,
)
from usagemock.apis.kenbun.facts import FACTS
from usagemock.apis.sections import COUNT, DURATION, SHARE, closed, top_up
from usagemock.domain.clock import parse_step
from usagemock.domain.periods import isoformat
from usagemock.domain.records import curve_from_json, parse_stamp, stamp
from usagemock.domain.usage import Ingest, UsageCurve
from usagemock.error_bodies import problem_details

_SECTION = {
    "plan": closed(
        {
            "free_tier_limit": COUNT,
            "overage_unit": {"type": "integer", "minimum": 1},
            "overage_rate_cents": COUNT,
        }
    ),
    "status": {"enum": [s.value for s in SubscriptionStatus]},
    "trial": closed(
        {
            "ends_in": DURATION,
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
            closed({"events": COUNT}, "events"),
            closed({"share_of_limit": SHARE}, "share_of_limit"),
        ]
    },
    "organic_per_cycle": COUNT,
}
_COUNT_REF = {"$ref": "#/components/schemas/Count"}
_RECORD = {
    "required": ["org_name", "plan", "status"],
    "properties": {
        "org_name": {"type": "string", "minLength": 1},
        "plan": {
            "type": "object",
            "required": ["free_tier_limit", "overage_unit", "overage_rate_cents"],
            "additionalProperties": False,
            "properties": {
                "free_tier_limit": _COUNT_REF,
                "overage_unit": {"allOf": [_COUNT_REF], "minimum": 1},
                "overage_rate_cents": _COUNT_REF,
            },
        },
        "status": {"enum": [s.value for s in SubscriptionStatus]},
        "trial": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["ends_at", "then"],
                    "additionalProperties": False,
                    "properties": {
                        "ends_at": {"$ref": "#/components/schemas/RecordMoment"},
                        "then": {
                            "enum": [
                                s.value
                                for s in SubscriptionStatus
                                if s is not SubscriptionStatus.TRIALING
                            ]
                        },
                    },
                },
            ]
        },
    },
}


def usage_body(usage: EventUsage) -> dict[str, Any]:
    """``Usage`` as the Kenbun spec shapes it."""
    account, plan = usage.account, usage.account.plan
    return {
        "monthly_events": usage.monthly_events,
        "free_tier_limit": plan.free_tier_limit,
        "overage_rate_cents": plan.overage_rate_cents,
        "overage_unit": plan.overage_unit,
        "overage": usage.overage,
        "billing_cycle_start": isoformat(usage.cycle.start),
        "billing_cycle_end": isoformat(usage.billing_cycle_end),
        "org_id": account.org_id,
        "org_name": account.org_name,
        "subscription_status": usage.status.value,
        "trial_ends_at": isoformat(usage.trial_ends_at) if usage.trial_ends_at else None,
    }


class KenbunDefinition:
    """Kenbun for the mock (see :class:`usagemock.apis.api_definition.ApiDefinition`)."""

    facts: ApiFacts = FACTS
    operation_id = "getUsage"
    scenario_section: Mapping[str, Any] = _SECTION
    record_schema: Mapping[str, Any] = _RECORD

    def generate(self, org_id: str, seed: int, name: str | None) -> KenbunAccount:
        """The generated account, named ``name`` when a fixtures file gives one."""
        return generate_account(org_id, seed, name)

    def answer(
        self, account: KenbunAccount, now: datetime, ingests: Sequence[Ingest]
    ) -> dict[str, Any]:
        """``GET /usage`` at ``now``."""
        return usage_body(usage_at(account, now, ingests))

    def moments(self, account: KenbunAccount) -> tuple[datetime, ...]:
        """A dated trial's end."""
        return (account.trial.ends_at,) if account.trial else ()

    def account_json(self, account: KenbunAccount) -> dict[str, Any]:
        """``org_name``, ``plan``, ``status`` and ``trial``."""
        trial = account.trial
        return {
            "org_name": account.org_name,
            "plan": vars(account.plan),
            "status": account.status.value,
            "trial": None
            if trial is None
            else {"ends_at": stamp(trial.ends_at), "then": trial.then.value},
        }

    def account_from_json(self, data: Mapping[str, Any]) -> KenbunAccount:
        """The account of a stored ``KenbunRecord``."""
        trial = data.get("trial")
        return KenbunAccount(
            org_id=data["org_id"],
            org_name=data["org_name"],
            plan=KenbunPlan(**data["plan"]),
            status=SubscriptionStatus(data["status"]),
            curve=curve_from_json(data["organic"]),
            trial=None
            if not trial
            else Trial(parse_stamp(trial["ends_at"]), SubscriptionStatus(trial["then"])),
        )

    def durations(self, section: Mapping[str, Any]) -> Sequence[str]:
        """The trial's ``ends_in``."""
        return [section["trial"]["ends_in"]] if "trial" in section else []

    def apply_section(
        self, scenario: str, base: KenbunAccount, section: Mapping[str, Any], now: datetime
    ) -> tuple[KenbunAccount, tuple[Ingest, ...]]:
        """Plan, subscription, trial, organic usage from ``now``, and the section's events."""
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
        events = usage.get(
            "events", math.ceil(usage.get("share_of_limit", 0) * plan.free_tier_limit)
        )
        return account, top_up(events, now)

    def error_body(self, status: int, detail: str) -> tuple[bytes, str]:
        """Kenbun's (chosen) RFC 9457 problem details."""
        return problem_details(status, detail)


DEFINITION: ApiDefinition[KenbunAccount] = KenbunDefinition()
