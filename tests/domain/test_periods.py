"""Billing periods: monthly windows from any anchor, calendar months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from usagemock.domain.periods import add_months, calendar_month, isoformat, monthly_period

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(anchor=instants, at=instants)
def test_monthly_period_contains_the_moment(anchor: datetime, at: datetime) -> None:
    """The period found for a moment contains it, starts before it ends, and spans 28-31 days."""
    period = monthly_period(anchor, at)
    assert period.start <= at < period.end
    assert timedelta(days=28) <= period.end - period.start <= timedelta(days=31)


@given(anchor=instants, at=instants)
def test_next_period_starts_where_this_one_ends(anchor: datetime, at: datetime) -> None:
    """Periods tile time: the one after a period starts exactly at its end."""
    period = monthly_period(anchor, at)
    assert monthly_period(anchor, period.end).start == period.end


def test_anchor_on_the_31st_clamps_to_short_months() -> None:
    """An anchor on the 31st bills on the last day of shorter months, then back on the 31st."""
    anchor = datetime(2026, 1, 31, tzinfo=UTC)
    assert add_months(anchor, 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(anchor, 2) == datetime(2026, 3, 31, tzinfo=UTC)


@given(at=instants)
def test_calendar_month_is_the_utc_month(at: datetime) -> None:
    """A calendar month starts on the 1st at midnight UTC and contains the moment."""
    month = calendar_month(at)
    assert month.start.day == 1 and month.start.hour == 0 and month.start <= at < month.end


def test_isoformat_is_rfc3339_utc_with_z() -> None:
    """Timestamps go out as the docs show them: whole seconds and a Z."""
    assert isoformat(datetime(2026, 3, 31, 23, 59, 59, 999, tzinfo=UTC)) == "2026-03-31T23:59:59Z"


@given(
    at=st.datetimes(
        min_value=datetime(1000, 1, 2),
        max_value=datetime(8999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5))]
        ),
    )
)
def test_isoformat_is_the_utc_moment_whatever_the_offset(at: datetime) -> None:
    """Any moment of the calendar, in any offset, goes out as its UTC time with a Z."""
    utc = at.astimezone(UTC)
    expected = f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%SZ")
    assert isoformat(at) == expected
