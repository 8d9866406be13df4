"""The virtual clock: set, advance, freeze and resume compose as a clock should; steps parse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import isodate
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagemock.domain.clock import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_STEP_YEARS,
    ClockState,
    calendar_moment,
    in_calendar,
    parse_step,
)
from usagemock.domain.periods import calendar_month, isoformat, monthly_period

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
steps = st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400))
# A clock in any state: following real time, ahead or behind it, or frozen somewhere.
clocks = st.one_of(
    st.builds(ClockState, offset=steps),
    st.builds(ClockState, frozen_at=instants),
)


@given(clock=clocks, real=instants, later=st.timedeltas(timedelta(0), timedelta(days=90)))
def test_a_running_clock_moves_with_real_time_and_a_frozen_one_stands(
    clock: ClockState, real: datetime, later: timedelta
) -> None:
    """Running, the mock's time moves as real time does; frozen, it does not move at all."""
    moved = clock.now(real + later) - clock.now(real)
    assert moved == (timedelta(0) if clock.frozen else later)


@given(
    clock=clocks,
    real=instants,
    moment=instants,
    later=st.timedeltas(timedelta(0), timedelta(days=90)),
)
def test_set_shows_the_moment_and_keeps_running_or_frozen(
    clock: ClockState, real: datetime, moment: datetime, later: timedelta
) -> None:
    """After ``set`` the clock shows that moment, and stays frozen or running as it was."""
    after = clock.set(moment, real)
    assert after.now(real) == moment
    assert after.frozen == clock.frozen
    if not clock.frozen:
        assert after.now(real + later) == moment + later


@given(clock=clocks, real=instants, a=steps, b=steps)
def test_advancing_twice_is_advancing_by_the_sum(
    clock: ClockState, real: datetime, a: timedelta, b: timedelta
) -> None:
    """Advancing by a then b lands where advancing by a + b does, and a step back undoes one."""
    twice = clock.advance(a, real).advance(b, real)
    assert twice.now(real) == clock.advance(a + b, real).now(real) == clock.now(real) + a + b
    assert clock.advance(a, real).advance(-a, real).now(real) == clock.now(real)


@given(clock=clocks, real=instants, later=st.timedeltas(timedelta(0), timedelta(days=90)))
def test_freeze_keeps_the_moment_shown_and_resume_runs_on_from_it(
    clock: ClockState, real: datetime, later: timedelta
) -> None:
    """Freezing stops the clock where it stands; resuming later runs on from that same moment."""
    shown = clock.now(real)
    frozen = clock.freeze(real)
    assert frozen.frozen and frozen.now(real + later) == shown
    resumed = frozen.resume(real + later)
    assert not resumed.frozen
    assert resumed.now(real + later) == shown
    assert resumed.now(real + 2 * later) == shown + later


@given(clock=clocks, real=instants)
def test_freeze_and_resume_are_idempotent(clock: ClockState, real: datetime) -> None:
    """Freezing a frozen clock or resuming a running one changes nothing it shows."""
    assert clock.freeze(real).freeze(real) == clock.freeze(real)
    assert clock.resume(real).resume(real).now(real) == clock.now(real)


def test_a_month_step_lands_on_the_same_day_next_month_clamped_to_its_length() -> None:
    """P1M from 31 January shows the last day of February, as calendars do."""
    real = datetime(2026, 1, 1, tzinfo=UTC)
    clock = ClockState().set(datetime(2026, 1, 31, 12, tzinfo=UTC), real)
    assert clock.advance(parse_step("P1M"), real).now(real) == datetime(2026, 2, 28, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("P3D", timedelta(days=3)),
        ("PT6H", timedelta(hours=6)),
        ("-P1D", timedelta(days=-1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("PT90M", timedelta(minutes=90)),
        (" P2W ", timedelta(weeks=2)),
        ("P1M", isodate.Duration(months=1)),
    ],
)
def test_parse_step_reads_iso_8601_durations(text: str, step: object) -> None:
    """Days, hours, weeks, months and negative steps parse to the duration they name."""
    assert parse_step(text) == step


@pytest.mark.parametrize(
    "text", ["", "3 days", "1D", "P", "PT", "P1DT", "P-1D", "PXD", "P1.5M", "P0.5Y", "tomorrow"]
)
def test_parse_step_refuses_junk_and_names_the_fix(text: str) -> None:
    """Anything that is not a usable ISO 8601 duration is refused with examples of one."""
    with pytest.raises(ValueError, match="not an ISO 8601 duration") as caught:
        parse_step(text)
    assert repr(text) in str(caught.value)
    assert "P3D" in str(caught.value) and "PT6H" in str(caught.value)


calendar_moments = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(
        min_value=datetime(FIRST_YEAR, 1, 1), max_value=datetime(LAST_YEAR, 12, 31, 23, 59)
    ),
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)


@given(moment=calendar_moments, years=st.integers(-MAX_STEP_YEARS, MAX_STEP_YEARS))
def test_any_calendar_moment_parses_and_every_period_around_it_computes(
    moment: datetime, years: int
) -> None:
    """Any moment of the calendar, in any zone, parses, and its periods and steps compute."""
    parsed = calendar_moment(moment.isoformat())
    assert parsed == moment and in_calendar(parsed)
    utc = parsed.astimezone(UTC)
    monthly_period(datetime(2000, 1, 31, 8, tzinfo=UTC), utc)
    month = calendar_month(utc)
    assert isoformat(month.end).endswith("Z")
    stepped = utc + parse_step(f"P{years}Y" if years >= 0 else f"-P{-years}Y")
    assert in_calendar(stepped, slack_years=MAX_STEP_YEARS + 1)


@pytest.mark.parametrize(
    "text", ["0999-12-31T23:59:59Z", "9000-01-01T00:00:00Z", "2026-03-17T14:30:00", "soon"]
)
def test_moments_outside_the_calendar_or_without_a_zone_are_refused(text: str) -> None:
    """A moment outside years 1000-8999, or without a zone, is a ValueError saying what to use."""
    with pytest.raises(ValueError, match="use"):
        calendar_moment(text)
