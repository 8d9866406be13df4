"""Billing periods: monthly windows from an anchor, and calendar months."""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Period:
    """A half-open window of time ``[start, end)``, both in UTC."""

    start: datetime
    end: datetime

    @functools.cached_property  # asked on every request; a frozen Period never changes
    def hours(self) -> int:
        """Whole hours in the period (the resolution of usage curves)."""
        return int((self.end - self.start) / timedelta(hours=1))

    def elapsed(self, at: datetime) -> timedelta:
        """Time from the start of the period to ``at``, clamped to the period."""
        return min(max(at, self.start), self.end) - self.start


def add_months(moment: datetime, months: int) -> datetime:
    """Move ``moment`` by whole months, clamping the day to the target month's length."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def monthly_period(anchor: datetime, at: datetime) -> Period:
    """The monthly period, counted from the account's ``anchor``, that contains ``at``."""
    months = (at.year - anchor.year) * 12 + (at.month - anchor.month)
    start = add_months(anchor, months)
    while start > at:
        months -= 1
        start = add_months(anchor, months)
    while (end := add_months(anchor, months + 1)) <= at:
        months += 1
        start = end
    return Period(start, end)


def calendar_month(at: datetime) -> Period:
    """The calendar month (UTC) that contains ``at``."""
    return _calendar_month(at.year, at.month)


@functools.lru_cache(maxsize=256)  # every request asks for the month it falls in: one Period
def _calendar_month(year: int, month: int) -> Period:
    start = datetime(year, month, 1, tzinfo=UTC)
    return Period(start, add_months(start, 1))


@functools.lru_cache(maxsize=1024)  # most moments written are a few period bounds, again and again
def isoformat(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix and whole seconds, as both APIs document."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    # by hand, not strftime: %Y does not pad year 220, and this runs several times per request
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )
