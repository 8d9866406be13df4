"""Kenbun at a glance: events this calendar month against the free tier."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from usagemock.apis.kenbun.account import KenbunAccount, usage_at
from usagemock.domain.overview import Chart, Headline, Limit, Line, thousands
from usagemock.domain.periods import calendar_month
from usagemock.domain.usage import Ingest


class KenbunOverview:
    """Kenbun's :class:`usagemock.domain.overview.Overview`."""

    ingest_unit = "events"

    def headline(
        self, account: KenbunAccount, now: datetime, ingests: Sequence[Ingest]
    ) -> Headline:
        """Subscription status, events against the free tier, overage and its estimate."""
        usage = usage_at(account, now, ingests)
        cents = usage.estimated_overage_cents
        return Headline(
            status=usage.status.value,
            usage=f"{thousands(usage.monthly_events)} / "
            f"{thousands(account.plan.free_tier_limit)} events",
            overage=f"yes, about ${cents / 100:,.2f}" if usage.overage else "no",
        )

    def chart(self, account: KenbunAccount, now: datetime, ingests: Sequence[Ingest]) -> Chart:
        """Events this month, with the free tier as the limit."""

        def values_at(moment: datetime) -> tuple[int, ...]:
            return (usage_at(account, moment, ingests).monthly_events,)

        return Chart(
            unit="events",
            period_at=calendar_month,
            lines=(Line("monthly_events", "Events this month"),),
            limits=(Limit("free_tier_limit", "Free tier", account.plan.free_tier_limit),),
            values_at=values_at,
        )
