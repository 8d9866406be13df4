"""An org at a glance: its one-line state and its usage over the current period, per API.

The control panel shows these; the admin API serves the chart as JSON. What each API draws is
an :class:`Overview` (one per API, at the bottom of this module, picked by the account's type);
sampling a period is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from usagemock.domain import kenbun, timbal
from usagemock.domain.periods import Period, calendar_month
from usagemock.domain.records import OrgRecord
from usagemock.domain.usage import Ingest

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


class Overview(Protocol):
    """What one API shows of an org at a glance."""

    ingest_unit: str
    """What an ingest adds (Kenbun events, Timbal credits)."""

    def headline(self, record: OrgRecord, now: datetime) -> Headline:
        """The org's state in one line at ``now``."""

    def chart(self, record: OrgRecord, now: datetime) -> Chart:
        """Usage over the period that holds ``now``."""


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
    times = tuple(sorted({m.replace(microsecond=0) for m in moments}))
    rows = [chart.values_at(moment) for moment in times]
    values = tuple(tuple(row[n] for row in rows) for n in range(len(chart.lines)))
    return Sampled(chart, drawn, times, values, marked)


def _count(value: int) -> str:
    return f"{value:,}"


class KenbunOverview:
    """Kenbun: events this calendar month against the free tier."""

    ingest_unit = "events"

    def headline(self, record: OrgRecord, now: datetime) -> Headline:
        """Subscription status, events against the free tier, overage and its estimate."""
        usage = self._usage(record, now)
        plan = usage.account.plan
        cents = usage.estimated_overage_cents
        return Headline(
            status=usage.status.value,
            usage=f"{_count(usage.monthly_events)} / {_count(plan.free_tier_limit)} events",
            overage=f"yes, about ${cents / 100:,.2f}" if usage.overage else "no",
        )

    def chart(self, record: OrgRecord, now: datetime) -> Chart:
        """Events this month, with the free tier as the limit."""
        usage = self._usage(record, now)
        account = usage.account

        def values_at(moment: datetime) -> tuple[int, ...]:
            return (kenbun.usage_at(account, moment, record.ingests).monthly_events,)

        return Chart(
            unit="events",
            period_at=calendar_month,
            lines=(Line("monthly_events", "Events this month"),),
            limits=(Limit("free_tier_limit", "Free tier", account.plan.free_tier_limit),),
            values_at=values_at,
        )

    @staticmethod
    def _usage(record: OrgRecord, now: datetime) -> kenbun.EventUsage:
        assert isinstance(record.account, kenbun.KenbunAccount)  # OVERVIEWS picks by type
        return kenbun.usage_at(record.account, now, record.ingests)


class TimbalOverview:
    """Timbal: overage credits used, invoiced and pending, with the threshold and the cap."""

    ingest_unit = "credits"

    def headline(self, record: OrgRecord, now: datetime) -> Headline:
        """Overage on or off, credits used against the cap, pending credits."""
        account = self._account(record)
        summary = timbal.summarize(account, now, record.ingests)
        if summary.period is None:
            return Headline("no metered window", "-", "no")
        cap = "no cap" if summary.cap_credits is None else f"cap {_count(summary.cap_credits)}"
        return Headline(
            status="overage on" if summary.enabled else "overage off",
            usage=f"{_count(summary.used_credits)} overage credits ({cap})",
            overage=f"{_count(summary.pending_credits)} pending, "
            f"{_count(summary.invoiced_credits)} invoiced",
        )

    def chart(self, record: OrgRecord, now: datetime) -> Chart:
        """Used, invoiced and pending overage credits; the threshold (in credits) and the cap."""
        account = self._account(record)
        plan = account.plan

        def values_at(moment: datetime) -> tuple[int, ...]:
            summary = timbal.summarize(account, moment, record.ingests)
            return summary.used_credits, summary.invoiced_credits, summary.pending_credits

        threshold = timbal.threshold_credits(plan)
        limits = []
        if threshold is not None:
            limits.append(
                Limit("threshold", f"Invoice threshold (${plan.threshold_usd})", threshold)
            )
        if plan.cap_credits is not None:
            limits.append(Limit("cap_credits", "Cap", plan.cap_credits))
        return Chart(
            unit="overage credits",
            period_at=lambda moment: timbal.summarize(account, moment).period,
            lines=(
                Line("used_credits", "Used"),
                Line("invoiced_credits", "Invoiced"),
                Line("pending_credits", "Pending"),
            ),
            limits=tuple(limits),
            values_at=values_at,
        )

    @staticmethod
    def _account(record: OrgRecord) -> timbal.TimbalAccount:
        assert isinstance(record.account, timbal.TimbalAccount)  # OVERVIEWS picks by type
        return record.account


OVERVIEWS: dict[type, Overview] = {
    kenbun.KenbunAccount: KenbunOverview(),
    timbal.TimbalAccount: TimbalOverview(),
}


def overview(record: OrgRecord) -> Overview:
    """The overview of the record's API."""
    return OVERVIEWS[type(record.account)]
