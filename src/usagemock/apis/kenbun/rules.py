"""Kenbun's rules: what its "Usage API" page states or implies."""

from __future__ import annotations

from datetime import datetime, timedelta

from usagemock.rules.shapes import (
    Answer,
    Body,
    MomentRule,
    Rule,
    SeriesRule,
    contains,
    documented,
    inferred,
    instant,
    never_down,
    not_negative,
    whole,
    windows_apart,
)

#: The vendor document every source of these rules quotes (in ``specs/vendor``).
KENBUN_DOC = "kenbun-usage.md"

KENBUN_STATUSES = ("active", "trialing", "past_due", "canceled", "ended", "expired", "none")
KENBUN_WINDOW = ("billing_cycle_start", "billing_cycle_end")
KENBUN_TIMES = ("billing_cycle_start", "billing_cycle_end", "trial_ends_at")


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
    if not instant(start) < instant(end):
        return [f"billing_cycle_start {start} is not before billing_cycle_end {end}"]
    return []


def _kenbun_counts(body: Body) -> list[str]:
    broken = not_negative(body, ("monthly_events", "free_tier_limit", "overage_rate_cents"))
    if not (whole(body["overage_unit"]) and body["overage_unit"] > 0):
        broken.append(f"overage_unit is {body['overage_unit']!r}, not a whole number > 0")
    return broken


def _kenbun_status(body: Body) -> list[str]:
    status = body["subscription_status"]
    if status not in KENBUN_STATUSES:
        return [f"subscription_status {status!r} is not one of {', '.join(KENBUN_STATUSES)}"]
    return []


def _kenbun_iso(body: Body) -> list[str]:
    broken = []
    for name in KENBUN_TIMES:
        value = body.get(name)
        if value is None or not isinstance(value, str):
            continue  # absent, null or not a string: the schema's job
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            broken.append(f"{name} {value!r} is not an ISO 8601 timestamp")
    return broken


def _kenbun_cycle_now(answer: Answer, skew: timedelta) -> list[str]:
    body = answer.body
    start, end = instant(body["billing_cycle_start"]), instant(body["billing_cycle_end"])
    return contains(start, end, answer, skew, KENBUN_WINDOW)


def _kenbun_trial_ahead(answer: Answer, skew: timedelta) -> list[str]:
    ends = answer.body["trial_ends_at"]
    if ends is None or instant(ends) + skew >= answer.sent:
        return []
    return [
        f"trial_ends_at {ends} is before the request (sent {answer.sent.isoformat()}; "
        f"clock skew allowed: {skew}), yet not null"
    ]


def _kenbun_same_org(earlier: Answer, later: Answer, skew: timedelta) -> list[str]:
    first, second = earlier.body["org_id"], later.body["org_id"]
    return [] if first == second else [f"org_id changed from {first!r} to {second!r}"]


KENBUN: tuple[Rule, ...] = (
    Rule(
        "overage_flag",
        "overage is true exactly when monthly_events exceeds free_tier_limit",
        documented(
            KENBUN_DOC,
            '"The overage flag is set to true when monthly_events exceeds free_tier_limit"; '
            'overage: "true if current usage exceeds your plan\'s included event limit"',
        ),
        _kenbun_overage_flag,
    ),
    Rule(
        "trial_only_when_trialing",
        "trial_ends_at is null unless subscription_status is trialing",
        inferred(
            KENBUN_DOC,
            'trial_ends_at: "null if not in a trial"; subscription_status: "active, trialing, ..."',
            "'trialing' is the documented state of being in a trial, so in any other state the "
            "org is not in one",
        ),
        _kenbun_trial,
    ),
    Rule(
        "cycle_order",
        "billing_cycle_start is before billing_cycle_end",
        inferred(
            KENBUN_DOC,
            '"Use billing_cycle_start and billing_cycle_end to determine the exact window '
            'covered by the current count"',
            "a window events are counted in starts before it ends",
        ),
        _kenbun_cycle,
    ),
    Rule(
        "counts_not_negative",
        "counts and the rate are not negative; overage_unit > 0",
        inferred(
            KENBUN_DOC,
            '"Total events ingested"; "Monthly event allowance"; "Cost in cents charged per '
            'overage unit"; "divide the excess events by overage_unit"',
            "counts of events and a charge are not below zero, and a unit one divides by "
            "holds at least one event",
        ),
        _kenbun_counts,
    ),
    Rule(
        "status_documented",
        "subscription_status is one of the seven documented states",
        documented(
            KENBUN_DOC,
            'subscription_status: "Current subscription state: active, trialing, past_due, '
            'canceled, ended, expired, or none"',
        ),
        _kenbun_status,
    ),
    Rule(
        "timestamps_iso8601",
        "billing_cycle_start, billing_cycle_end and trial_ends_at are ISO 8601",
        documented(
            KENBUN_DOC,
            'billing_cycle_start: "Start of the current billing cycle (ISO 8601)"; likewise '
            "billing_cycle_end and trial_ends_at",
        ),
        _kenbun_iso,
    ),
)

KENBUN_MOMENTS: tuple[MomentRule, ...] = (
    MomentRule(
        "cycle_contains_now",
        "the current billing cycle contains the moment of the request",
        inferred(
            KENBUN_DOC,
            'monthly_events: "Total events ingested during the current billing cycle"; '
            'billing_cycle_start: "Start of the current billing cycle"',
            "the current cycle is the one the request's moment falls in (clock skew allowed)",
        ),
        _kenbun_cycle_now,
    ),
    MomentRule(
        "trial_end_not_past",
        "a trial_ends_at that is not null is not before the request",
        inferred(
            KENBUN_DOC,
            'trial_ends_at: "When the free trial ends (ISO 8601). null if not in a trial."',
            "once that moment has passed the trial has ended, the org is not in a trial, and "
            "the field is null",
        ),
        _kenbun_trial_ahead,
    ),
)

KENBUN_SERIES: tuple[SeriesRule, ...] = (
    SeriesRule(
        "events_never_go_down",
        "within one billing cycle, monthly_events never goes down",
        inferred(
            KENBUN_DOC,
            'monthly_events: "Total events ingested during the current billing cycle"',
            "an event ingested stays ingested, so the total over one cycle only grows",
        ),
        lambda a, b, _: never_down(a, b, KENBUN_WINDOW, ("monthly_events",)),
    ),
    SeriesRule(
        "cycles_same_or_apart",
        "two answers' billing cycles are the same cycle or do not overlap",
        inferred(
            KENBUN_DOC,
            '"Returns the number of events ingested during the current billing cycle"',
            "cycles follow one another: a cycle that changed its bounds while still current "
            "would have two windows",
        ),
        lambda a, b, _: windows_apart(a, b, KENBUN_WINDOW),
    ),
    SeriesRule(
        "org_stays_the_same",
        "one token's answers name one org_id",
        inferred(
            KENBUN_DOC,
            'org_id: "Organization identifier (automatically set based on your account context '
            '-- you do not need to provide this manually)"',
            "the org comes from the token's account context, which one token keeps between calls",
        ),
        _kenbun_same_org,
    ),
)
