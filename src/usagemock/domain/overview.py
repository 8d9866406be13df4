"""An org at a glance: the shapes of its one-line state and its usage chart, and sampling.

The control panel shows these; the admin API serves the chart as JSON. What each API draws is
its :class:`Overview` (its definition's ``overview``, in ``usagemock.apis``); sampling a chart
across its periods is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from usagemock.domain.periods import Period
from usagemock.domain.usage import Ingest

A = TypeVar("A", contravariant=True)

SAMPLES = 96  # points across a period: a month at 7.5-hour steps, enough for a smooth curve
MAX_PERIODS = 3  # the period holding now, and the next ones a timeline reaches into, up to this
MAX_MARKED_INGESTS = 200  # ingests drawn as marks and as steps; more would only thicken the line


@dataclass(frozen=True)
class Headline:
    """An org's state in one line: status, usage against its limit, overage."""

    status: str
    usage: str
    overage: str


@dataclass(frozen=True)
class Line:
    """One curve of a chart."""

    key: str
    label: str


@dataclass(frozen=True)
class Limit:
    """A horizontal line of a chart: a limit the usage is measured against."""

    key: str
    label: str
    value: int


@dataclass(frozen=True)
class Chart:
    """Usage over one period: what to draw and how to evaluate it at a moment."""

    unit: str
    period_at: Callable[[datetime], Period | None]
    """The billing period holding a moment; None when the org has none to draw."""
    lines: tuple[Line, ...]
    limits: tuple[Limit, ...]
    values_at: Callable[[datetime], tuple[int, ...]]
    """The value of each line at a moment (future moments count the timeline's ingests)."""


@dataclass(frozen=True)
class Sampled:
    """A chart evaluated across its periods: times, one value per line per time, the marks."""

    chart: Chart
    periods: tuple[Period, ...]
    """The period holding now, then those the timeline's ingests reach into; () when none."""
    times: tuple[datetime, ...]
    values: tuple[tuple[int, ...], ...]
    """Per line, its value at each of ``times``."""
    ingests: tuple[Ingest, ...]
    """Ingests inside the periods (the first :data:`MAX_MARKED_INGESTS`)."""


class Overview(Protocol[A]):
    """What one API shows of an org at a glance, for its account type ``A``."""

    @property
    def ingest_unit(self) -> str:
        """What an ingest adds, in the plural (say, events or credits)."""

    def headline(self, account: A, now: datetime, ingests: Sequence[Ingest]) -> Headline:
        """The org's state in one line at ``now``."""

    def chart(self, account: A, now: datetime, ingests: Sequence[Ingest]) -> Chart:
        """Usage over the period that holds ``now`` (and the next ones, evaluated alike)."""


def periods(chart: Chart, now: datetime, ingests: Iterable[Ingest]) -> tuple[Period, ...]:
    """The period holding ``now``, then each next one an ingest ahead of now falls in."""
    first = chart.period_at(now)
    if first is None:
        return ()
    last_ahead = max((i.at for i in ingests if i.at > now), default=None)
    found = [first]
    while last_ahead is not None and last_ahead >= found[-1].end and len(found) < MAX_PERIODS:
        following = chart.period_at(found[-1].end)
        if following is None:
            break
        found.append(following)
    return tuple(found)


def sample(chart: Chart, now: datetime, ingests: Iterable[Ingest]) -> Sampled:
    """Evaluate ``chart`` across its periods: evenly, at ``now``, and around each ingest.

    A moment just before each ingest makes its step vertical instead of a slope to the previous
    sample; moments after ``now`` are the projection a timeline makes.
    """
    ingests = tuple(ingests)
    drawn = periods(chart, now, ingests)
    if not drawn:
        return Sampled(chart, (), (), tuple(() for _ in chart.lines), ())
    first, last = drawn[0].start, drawn[-1].end - timedelta(seconds=1)
    inside = tuple(i for i in sorted(ingests, key=lambda i: i.at) if first <= i.at <= last)
    marked = inside[:MAX_MARKED_INGESTS]
    moments = {
        period.start + (period.end - period.start) / SAMPLES * n
        for period in drawn
        for n in range(SAMPLES)
    }
    moments |= {last, min(max(now, first), last)}
    moments |= {i.at for i in marked}
    moments |= {i.at - timedelta(seconds=1) for i in marked if i.at > first}
    # Evaluated at the exact moment, shown at its whole second: a clock or ingest between seconds
    # (a scenario applied now) must count at now. The latest moment in a second names its value.
    shown = {moment.replace(microsecond=0): moment for moment in sorted(moments)}
    times = tuple(sorted(shown))
    rows = [chart.values_at(shown[second]) for second in times]
    values = tuple(tuple(row[n] for row in rows) for n in range(len(chart.lines)))
    return Sampled(chart, drawn, times, values, marked)


def thousands(value: int) -> str:
    """A count as a person reads it: 1,234,567."""
    return f"{value:,}"
