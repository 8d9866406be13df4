"""What the APIs' documents state or imply, written once: the mock keeps it, the kit checks it.

Every rule says where it comes from (:class:`Source`): the vendor's words (**documented**), what
they necessarily imply (**inferred**, with the one line of reasoning), or a choice we made for the
mock (**assumed**). Rules come in three shapes, all on plain JSON so they check any server:

- :class:`Rule`: one decoded 200 body on its own;
- :class:`MomentRule`: one answer against the moment it was asked (give or take clock skew);
- :class:`SeriesRule`: two answers to the same token for the same org, one asked after the other.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

Body = Mapping[str, Any]

KENBUN_DOC = "kenbun-usage.md"
TIMBAL_DOC = "timbal-overage.md"
#: How far apart the asker's and the server's clocks may be before a time rule breaks.
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)


class Kind(enum.StrEnum):
    """Where a constraint comes from, which decides whether breaking it fails a run."""

    DOCUMENTED = "documented"
    """The vendor's text says it."""
    INFERRED = "inferred"
    """It follows necessarily from what the vendor's text means."""
    ASSUMED = "assumed"
    """Our choice, so the mock can answer; a server may differ (a note, not a failure)."""


@dataclass(frozen=True)
class Source:
    """The kind of a constraint, the vendor's words it rests on, and the reasoning when inferred."""

    kind: Kind
    quote: str
    """A sentence quoted from the vendor document, or a pointer into it."""
    document: str = ""
    """The vendor document quoted (a file of ``shared/seeds``), or "" for HTTP's own RFCs."""
    reasoning: str = ""
    """For inferred and assumed constraints: why, in one line."""

    def cite(self) -> str:
        """One line a QA engineer can take to the vendor: kind, quote, document, reasoning."""
        where = f" ({self.document})" if self.document else ""
        because = f"; {self.reasoning}" if self.reasoning else ""
        return f"{self.kind.value}: {self.quote}{where}{because}"


def documented(document: str, quote: str) -> Source:
    """A constraint the vendor's ``document`` states in ``quote``."""
    return Source(Kind.DOCUMENTED, quote, document)


def inferred(document: str, quote: str, reasoning: str) -> Source:
    """A constraint that follows from ``quote`` in ``document``, for ``reasoning``."""
    return Source(Kind.INFERRED, quote, document, reasoning)


def assumed(quote: str, reasoning: str) -> Source:
    """A choice of ours (``quote`` says what), for ``reasoning``."""
    return Source(Kind.ASSUMED, quote, "", reasoning)


@dataclass(frozen=True)
class Answer:
    """One 200 body, and when it was asked and received by the asker's clock."""

    body: Body
    sent: datetime
    received: datetime


@dataclass(frozen=True)
class Rule:
    """One rule on a single body: its name, what it says, where it comes from, and its check."""

    name: str
    statement: str
    source: Source
    check: Callable[[Body], list[str]]

    def __call__(self, body: Body) -> list[str]:
        """What in ``body`` breaks this rule; a field of the wrong type is the schema's job."""
        try:
            return self.check(body)
        except (KeyError, TypeError, ValueError):
            return []


@dataclass(frozen=True)
class MomentRule:
    """One rule on a body against the moment it was asked."""

    name: str
    statement: str
    source: Source
    check: Callable[[Answer, timedelta], list[str]]

    def __call__(self, answer: Answer, skew: timedelta = DEFAULT_CLOCK_SKEW) -> list[str]:
        """What in ``answer`` breaks this rule, clocks allowed ``skew`` apart."""
        try:
            return self.check(answer, skew)
        except (KeyError, TypeError, ValueError, AttributeError):
            return []


@dataclass(frozen=True)
class SeriesRule:
    """One rule on two answers to the same token about the same org, ``later`` asked after."""

    name: str
    statement: str
    source: Source
    check: Callable[[Answer, Answer, timedelta], list[str]]

    def __call__(
        self, earlier: Answer, later: Answer, skew: timedelta = DEFAULT_CLOCK_SKEW
    ) -> list[str]:
        """What in the pair breaks this rule, clocks allowed ``skew`` apart."""
        try:
            return self.check(earlier, later, skew)
        except (KeyError, TypeError, ValueError, AttributeError):
            return []


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def instant(value: Any) -> datetime:
    """An ISO 8601 timestamp as an aware datetime; ValueError when it has no offset."""
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")  # no moment to compare: rules pass
    return moment


def _not_negative(body: Body, names: tuple[str, ...], nullable: bool = False) -> list[str]:
    what = "null or a whole number >= 0" if nullable else "a whole number >= 0"
    return [
        f"{n} is {body[n]!r}, not {what}"
        for n in names
        if n in body
        and not (nullable and body[n] is None)
        and not (_whole(body[n]) and body[n] >= 0)
    ]


def _contains(
    start: datetime, end: datetime, answer: Answer, skew: timedelta, names: tuple[str, str]
) -> list[str]:
    if start - skew <= answer.received and answer.sent <= end + skew:
        return []
    return [
        f"{names[0]} {start.isoformat()} .. {names[1]} {end.isoformat()} does not contain "
        f"the request (sent {answer.sent.isoformat()}, answered {answer.received.isoformat()}; "
        f"clock skew allowed: {skew})"
    ]


def _same_window(
    earlier: Answer, later: Answer, names: tuple[str, str]
) -> tuple[datetime, datetime, datetime, datetime] | None:
    """Both answers' windows, when both have one; None otherwise."""
    first, second = earlier.body, later.body
    if any(first.get(n) is None or second.get(n) is None for n in names):
        return None
    return (
        instant(first[names[0]]),
        instant(first[names[1]]),
        instant(second[names[0]]),
        instant(second[names[1]]),
    )


def _windows_apart(earlier: Answer, later: Answer, names: tuple[str, str]) -> list[str]:
    windows = _same_window(earlier, later, names)
    if windows is None:
        return []
    start1, end1, start2, end2 = windows
    same = (start1, end1) == (start2, end2)
    if same or not (start2 < end1 and start1 < end2):
        return []
    return [
        f"one answer's window is {start1.isoformat()} .. {end1.isoformat()}, the next one's "
        f"{start2.isoformat()} .. {end2.isoformat()}: they overlap without being the same"
    ]


def _never_down(
    earlier: Answer, later: Answer, window: tuple[str, str], counts: tuple[str, ...]
) -> list[str]:
    windows = _same_window(earlier, later, window)
    if windows is None or windows[:2] != windows[2:]:
        return []
    return [
        f"{n} went down from {earlier.body[n]} to {later.body[n]} within one {window[0]} .. "
        f"{window[1]} window"
        for n in counts
        if _whole(earlier.body[n]) and _whole(later.body[n]) and later.body[n] < earlier.body[n]
    ]


# -- Timbal -----------------------------------------------------------------------------------

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
    return _contains(instant(start), instant(end), answer, skew, TIMBAL_WINDOW)


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
            _not_negative(b, TIMBAL_COUNTS)
            + _not_negative(b, ("cap_credits", "rate_cents_per_1k"), nullable=True)
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
        lambda b: _not_negative(b, ("threshold_usd",), nullable=True),
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
        lambda a, b, _: _never_down(a, b, TIMBAL_WINDOW, ("used_credits", "invoiced_credits")),
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
        lambda a, b, _: _windows_apart(a, b, TIMBAL_WINDOW),
    ),
)


# -- Kenbun -----------------------------------------------------------------------------------

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
    broken = _not_negative(body, ("monthly_events", "free_tier_limit", "overage_rate_cents"))
    if not (_whole(body["overage_unit"]) and body["overage_unit"] > 0):
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
    return _contains(start, end, answer, skew, KENBUN_WINDOW)


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
        lambda a, b, _: _never_down(a, b, KENBUN_WINDOW, ("monthly_events",)),
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
        lambda a, b, _: _windows_apart(a, b, KENBUN_WINDOW),
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

RULES: Mapping[str, tuple[Rule, ...]] = {"timbal": TIMBAL, "kenbun": KENBUN}
MOMENTS: Mapping[str, tuple[MomentRule, ...]] = {"timbal": TIMBAL_MOMENTS, "kenbun": KENBUN_MOMENTS}
SERIES: Mapping[str, tuple[SeriesRule, ...]] = {"timbal": TIMBAL_SERIES, "kenbun": KENBUN_SERIES}


def violations(api: str, body: Body) -> list[str]:
    """Every body rule of ``api`` that ``body`` breaks, as ``rule: what`` lines."""
    return [f"{rule.name}: {what}" for rule in RULES[api] for what in rule(body)]


def moment_violations(api: str, answer: Answer, skew: timedelta = DEFAULT_CLOCK_SKEW) -> list[str]:
    """Every moment rule of ``api`` that ``answer`` breaks, as ``rule: what`` lines."""
    return [f"{rule.name}: {what}" for rule in MOMENTS[api] for what in rule(answer, skew)]


def series_violations(
    api: str, earlier: Answer, later: Answer, skew: timedelta = DEFAULT_CLOCK_SKEW
) -> list[str]:
    """Every series rule of ``api`` that the pair breaks, as ``rule: what`` lines."""
    return [f"{rule.name}: {what}" for rule in SERIES[api] for what in rule(earlier, later, skew)]
