"""Usage curves: never down inside a period, exactly the expected total at its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from usagemock.domain.periods import monthly_period
from usagemock.domain.usage import UsageCurve

ANCHOR = datetime(2026, 1, 15, 9, tzinfo=UTC)
PERIOD = monthly_period(ANCHOR, datetime(2026, 3, 20, tzinfo=UTC))

curves = st.builds(
    lambda total, share, seed: UsageCurve(total, int(total * share), seed),
    st.integers(0, 10**9),
    st.floats(0, 0.9),
    st.integers(0, 2**32),
)
offsets = st.timedeltas(min_value=timedelta(0), max_value=PERIOD.end - PERIOD.start)


@given(curve=curves, a=offsets, b=offsets)
def test_usage_never_goes_down_inside_a_period(
    curve: UsageCurve, a: timedelta, b: timedelta
) -> None:
    """Later moments in the same period never show less usage."""
    early, late = sorted((a, b))
    assert curve.at(PERIOD, PERIOD.start + early) <= curve.at(PERIOD, PERIOD.start + late)


@given(curve=curves)
def test_usage_runs_from_zero_to_the_expected_total(curve: UsageCurve) -> None:
    """A period starts at zero and ends at exactly the expected total."""
    assert curve.at(PERIOD, PERIOD.start) == 0
    assert curve.at(PERIOD, PERIOD.end) == curve.expected_total


def test_weekdays_are_busier_than_weekends() -> None:
    """The weekly rhythm shows: a weekday's usage exceeds a weekend day's on average."""
    curve = UsageCurve(10_000_000, 0, seed=3)

    def day(start: datetime) -> int:
        return curve.at(PERIOD, start + timedelta(days=1)) - curve.at(PERIOD, start)

    days = [PERIOD.start + timedelta(days=d) for d in range(27)]
    weekday = [day(d) for d in days if d.weekday() < 5]
    weekend = [day(d) for d in days if d.weekday() >= 5]
    assert sum(weekday) / len(weekday) > 1.5 * sum(weekend) / len(weekend)
