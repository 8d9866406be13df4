"""The shapes of a rule and where it comes from: kinds, sources, answers, and shared checks.

A rule is a :class:`Rule` (one body), a :class:`MomentRule` (a body against the moment it was
asked) or a :class:`SeriesRule` (two answers to one token about one org); each carries a
:class:`Source` saying whether the vendor documents it, implies it, or we assumed it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

Body = Mapping[str, Any]

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
    """The vendor document quoted (a file of ``specs/vendor``), or "" for HTTP's own RFCs."""
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


def whole(value: Any) -> bool:
    """Whether ``value`` is a JSON integer (a bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def instant(value: Any) -> datetime:
    """An ISO 8601 timestamp as an aware datetime; ValueError when it has no offset."""
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")  # no moment to compare: rules pass
    return moment


def not_negative(body: Body, names: tuple[str, ...], nullable: bool = False) -> list[str]:
    """A line for each of ``names`` in ``body`` that is not a whole number >= 0 (or null)."""
    what = "null or a whole number >= 0" if nullable else "a whole number >= 0"
    return [
        f"{n} is {body[n]!r}, not {what}"
        for n in names
        if n in body
        and not (nullable and body[n] is None)
        and not (whole(body[n]) and body[n] >= 0)
    ]


def contains(
    start: datetime, end: datetime, answer: Answer, skew: timedelta, names: tuple[str, str]
) -> list[str]:
    """A line when the window ``start`` .. ``end`` misses the request, beyond ``skew``."""
    if start - skew <= answer.received and answer.sent <= end + skew:
        return []
    return [
        f"{names[0]} {start.isoformat()} .. {names[1]} {end.isoformat()} does not contain "
        f"the request (sent {answer.sent.isoformat()}, answered {answer.received.isoformat()}; "
        f"clock skew allowed: {skew})"
    ]


def same_window(
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


def windows_apart(earlier: Answer, later: Answer, names: tuple[str, str]) -> list[str]:
    """A line when two answers' windows overlap without being the same window."""
    windows = same_window(earlier, later, names)
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


def never_down(
    earlier: Answer, later: Answer, window: tuple[str, str], counts: tuple[str, ...]
) -> list[str]:
    """A line for each of ``counts`` that went down between two answers in one window."""
    windows = same_window(earlier, later, window)
    if windows is None or windows[:2] != windows[2:]:
        return []
    return [
        f"{n} went down from {earlier.body[n]} to {later.body[n]} within one {window[0]} .. "
        f"{window[1]} window"
        for n in counts
        if whole(earlier.body[n]) and whole(later.body[n]) and later.body[n] < earlier.body[n]
    ]
