"""Timbal's rules: what its published overage document states or implies."""

from __future__ import annotations

from datetime import timedelta

from usagemock.rules.shapes import (
    Answer,
    Body,
    MomentRule,
    Rule,
    SeriesRule,
    assumed,
    contains,
    documented,
    inferred,
    instant,
    never_down,
    not_negative,
    windows_apart,
)

#: The vendor document every source of these rules quotes (in ``specs/vendor``).
TIMBAL_DOC = "timbal-overage.md"

TIMBAL_WINDOW = ("period_start", "period_end")
TIMBAL_COUNTS = ("used_credits", "invoiced_credits", "pending_credits")


def _timbal_used_is_sum(body: Body) -> list[str]:
    used, invoiced, pending = (
        body["used_credits"],
        body["invoiced_credits"],
        body["pending_credits"],
    )
    if used != invoiced + pending:
        return [f"used_credits {used} != invoiced_credits {invoiced} + pending_credits {pending}"]
    return []


def _timbal_period_pair(body: Body) -> list[str]:
    start, end = body.get("period_start"), body.get("period_end")
    if (start is None) != (end is None):
        return [f"period_start {start!r} and period_end {end!r}: both null or neither"]
    if start is not None and instant(start) >= instant(end):
        return [f"period_start {start} is not before period_end {end}"]
    return []


def _timbal_cap(body: Body) -> list[str]:
    cap = body.get("cap_credits")
    if body.get("enabled") is True and cap is not None and body["used_credits"] > cap:
        return [f"used_credits {body['used_credits']} exceeds cap_credits {cap} while enabled"]
    return []


def _timbal_period_now(answer: Answer, skew: timedelta) -> list[str]:
    start, end = answer.body.get("period_start"), answer.body.get("period_end")
    if start is None or end is None:
        return []
    return contains(instant(start), instant(end), answer, skew, TIMBAL_WINDOW)


TIMBAL: tuple[Rule, ...] = (
    Rule(
        "used_is_invoiced_plus_pending",
        "used_credits = invoiced_credits + pending_credits",
        documented(TIMBAL_DOC, "`used_credits = invoiced_credits + pending_credits`."),
        _timbal_used_is_sum,
    ),
    Rule(
        "credits_not_negative",
        "used, invoiced and pending credits, the cap and the rate are never negative",
        inferred(
            TIMBAL_DOC,
            '"Total overage credits consumed this period"; "Org-configured ceiling on overage '
            'credits"; "Metered overage rate in cents per 1,000 credits"',
            "a count of credits, a ceiling on that count and a price charged per 1,000 of them "
            "are not below zero",
        ),
        lambda b: (
            not_negative(b, TIMBAL_COUNTS)
            + not_negative(b, ("cap_credits", "rate_cents_per_1k"), nullable=True)
        ),
    ),
    Rule(
        "threshold_not_negative",
        "threshold_usd is null or not negative",
        assumed(
            "threshold_usd >= 0",
            "Timbal says only 'Outstanding overage value (whole USD) that triggers an interim "
            "invoice'; the mock never sends a negative one, a server might use one as a sentinel",
        ),
        lambda b: not_negative(b, ("threshold_usd",), nullable=True),
    ),
    Rule(
        "period_bounds",
        "period_start and period_end are null together and otherwise start < end",
        inferred(
            TIMBAL_DOC,
            'period_start: "`null` when the org has no metered billing window"; period_end: '
            '"`null` when there is no metered window"',
            "both are null for the same reason, and a period that has a start and an end "
            "starts before it ends",
        ),
        _timbal_period_pair,
    ),
    Rule(
        "cap_not_exceeded",
        "used_credits stays within cap_credits while enabled",
        inferred(
            TIMBAL_DOC,
            'cap_credits: "Org-configured ceiling on overage credits for the period ... only '
            'meaningful when `enabled`"',
            "a ceiling on the period's overage credits bounds the period's total, used_credits",
        ),
        _timbal_cap,
    ),
)

TIMBAL_MOMENTS: tuple[MomentRule, ...] = (
    MomentRule(
        "period_contains_now",
        "the current credits period contains the moment of the request",
        inferred(
            TIMBAL_DOC,
            'period_start: "Start of the current credits period"; period_end: "End of the '
            'current credits period"',
            "the current period is the one the request's moment falls in (clock skew allowed)",
        ),
        _timbal_period_now,
    ),
)

TIMBAL_SERIES: tuple[SeriesRule, ...] = (
    SeriesRule(
        "credits_never_go_down",
        "within one period, used_credits and invoiced_credits never go down",
        inferred(
            TIMBAL_DOC,
            'used_credits: "Total overage credits consumed this period"; invoiced_credits: '
            '"Overage credits already included on a finalized invoice this period"',
            "credits consumed stay consumed and a finalized invoice stays finalized, so both "
            "totals only grow until the period ends",
        ),
        lambda a, b, _: never_down(a, b, TIMBAL_WINDOW, ("used_credits", "invoiced_credits")),
    ),
    SeriesRule(
        "periods_same_or_apart",
        "two answers' periods are the same period or do not overlap",
        inferred(
            TIMBAL_DOC,
            '"Get overage credit usage for the current billing period."',
            "periods follow one another: a period that changed its bounds while still "
            "current would have two ends",
        ),
        lambda a, b, _: windows_apart(a, b, TIMBAL_WINDOW),
    ),
)
