"""Billing periods: monthly windows from an anchor, and calendar months."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Period:
    """A half-open window of time ``[start, end)``, both in UTC."""

    start: datetime
    end: datetime

    @property
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
    start = datetime(at.year, at.month, 1, tzinfo=UTC)
    return Period(start, add_months(start, 1))


def isoformat(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix and whole seconds, as both APIs document."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    # by hand, not strftime: %Y does not pad year 220, and this runs several times per request
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )
