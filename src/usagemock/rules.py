"""The rules each API documents in prose, written once: the mock keeps them, the kit checks them.

Each rule takes a decoded 200 response body and returns the ways it is broken (empty when kept).
Rules work on plain JSON, so they check any server: the mock, or a real deployment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Body = Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    """One documented rule: its name, the sentence it comes from, and its check."""

    name: str
    statement: str
    check: Callable[[Body], list[str]]

    def __call__(self, body: Body) -> list[str]:
        """What in ``body`` breaks this rule; a field of the wrong type is the schema's job."""
        try:
            return self.check(body)
        except (KeyError, TypeError, ValueError):
            return []


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _instant(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _timbal_used_is_sum(body: Body) -> list[str]:
    used, invoiced, pending = (
        body["used_credits"],
        body["invoiced_credits"],
        body["pending_credits"],
    )
    if used != invoiced + pending:
        return [f"used_credits {used} != invoiced_credits {invoiced} + pending_credits {pending}"]
    return []


def _timbal_counts_whole(body: Body) -> list[str]:
    names = ("used_credits", "invoiced_credits", "pending_credits")
    optional = ("cap_credits", "rate_cents_per_1k", "threshold_usd")
    broken = [
        f"{n} is {body[n]!r}, not a whole number >= 0"
        for n in names
        if n in body and not (_whole(body[n]) and body[n] >= 0)
    ]
    broken += [
        f"{n} is {body[n]!r}, not null or a whole number >= 0"
        for n in optional
        if body.get(n) is not None and not (_whole(body[n]) and body[n] >= 0)
    ]
    return broken


def _timbal_period_pair(body: Body) -> list[str]:
    start, end = body.get("period_start"), body.get("period_end")
    if (start is None) != (end is None):
        return [f"period_start {start!r} and period_end {end!r}: both null or neither"]
    if start is not None and _instant(start) > _instant(end):
        return [f"period_start {start} is after period_end {end}"]
    return []


def _timbal_cap(body: Body) -> list[str]:
    cap = body.get("cap_credits")
    if body.get("enabled") and cap is not None and body["used_credits"] > cap:
        return [f"used_credits {body['used_credits']} exceeds cap_credits {cap}"]
    return []


TIMBAL: tuple[Rule, ...] = (
    Rule(
        "used_is_invoiced_plus_pending",
        "used_credits = invoiced_credits + pending_credits",
        _timbal_used_is_sum,
    ),
    Rule(
        "credits_whole_and_not_negative",
        "credit counts, rates and amounts are whole, never negative",
        _timbal_counts_whole,
    ),
    Rule(
        "period_bounds",
        "period_start and period_end are null together (no metered window) "
        "and otherwise start <= end",
        _timbal_period_pair,
    ),
    Rule(
        "cap_not_exceeded",
        "cap_credits is the ceiling on overage credits for the period",
        _timbal_cap,
    ),
)


KENBUN_STATUSES = ("active", "trialing", "past_due", "canceled", "ended", "expired", "none")


def _kenbun_overage_flag(body: Body) -> list[str]:
    events, limit, flag = body["monthly_events"], body["free_tier_limit"], body["overage"]
    if flag != (events > limit):
        return [
            f"overage is {flag} but monthly_events {events} "
            f"{'>' if events > limit else '<='} free_tier_limit {limit}"
        ]
    return []


def _kenbun_trial(body: Body) -> list[str]:
    status, ends = body["subscription_status"], body["trial_ends_at"]
    if ends is not None and status != "trialing":
        return [f"trial_ends_at is {ends} but subscription_status is {status!r}, not 'trialing'"]
    return []


def _kenbun_cycle(body: Body) -> list[str]:
    start, end = body["billing_cycle_start"], body["billing_cycle_end"]
    if not _instant(start) < _instant(end):
        return [f"billing_cycle_start {start} is not before billing_cycle_end {end}"]
    return []


def _kenbun_counts(body: Body) -> list[str]:
    broken = []
    if not (_whole(body["monthly_events"]) and body["monthly_events"] >= 0):
        broken.append(f"monthly_events is {body['monthly_events']!r}, not a whole number >= 0")
    if not (_whole(body["overage_unit"]) and body["overage_unit"] > 0):
        broken.append(f"overage_unit is {body['overage_unit']!r}, not a whole number > 0")
    for name in ("free_tier_limit", "overage_rate_cents"):
        if not (_whole(body[name]) and body[name] >= 0):
            broken.append(f"{name} is {body[name]!r}, not a whole number >= 0")
    return broken


def _kenbun_status(body: Body) -> list[str]:
    status = body["subscription_status"]
    if status not in KENBUN_STATUSES:
        return [f"subscription_status {status!r} is not one of {', '.join(KENBUN_STATUSES)}"]
    return []


KENBUN: tuple[Rule, ...] = (
    Rule(
        "overage_flag",
        "overage is true when monthly_events exceeds free_tier_limit",
        _kenbun_overage_flag,
    ),
    Rule("trial_only_when_trialing", "trial_ends_at is null if not in a trial", _kenbun_trial),
    Rule("cycle_order", "billing_cycle_start is before billing_cycle_end", _kenbun_cycle),
    Rule(
        "counts_not_negative",
        "counts and rates are whole and not negative; overage_unit > 0",
        _kenbun_counts,
    ),
    Rule(
        "status_documented",
        "subscription_status is one of the seven documented states",
        _kenbun_status,
    ),
)

RULES: Mapping[str, tuple[Rule, ...]] = {"timbal": TIMBAL, "kenbun": KENBUN}


def violations(api: str, body: Body) -> list[str]:
    """Every documented rule of ``api`` that ``body`` breaks, as ``rule: what`` lines."""
    return [f"{rule.name}: {what}" for rule in RULES[api] for what in rule(body)]
