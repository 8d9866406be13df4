"""Timbal at a glance: overage credits used, invoiced and pending, the threshold and the cap."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from usagemock.apis.timbal.account import TimbalAccount, summarize, threshold_credits
from usagemock.domain.overview import Chart, Headline, Limit, Line, thousands
from usagemock.domain.usage import Ingest


class TimbalOverview:
    """Timbal's :class:`usagemock.domain.overview.Overview`."""

    ingest_unit = "credits"

    def headline(
        self, account: TimbalAccount, now: datetime, ingests: Sequence[Ingest]
    ) -> Headline:
        """Overage on or off, credits used against the cap, pending and invoiced credits."""
        summary = summarize(account, now, ingests)
        if summary.period is None:
            return Headline("no metered window", "-", "no")
        cap = "no cap" if summary.cap_credits is None else f"cap {thousands(summary.cap_credits)}"
        return Headline(
            status="overage on" if summary.enabled else "overage off",
            usage=f"{thousands(summary.used_credits)} overage credits ({cap})",
            overage=f"{thousands(summary.pending_credits)} pending, "
            f"{thousands(summary.invoiced_credits)} invoiced",
        )

    def chart(self, account: TimbalAccount, now: datetime, ingests: Sequence[Ingest]) -> Chart:
        """Used, invoiced and pending overage credits; the threshold (in credits) and the cap."""
        plan = account.plan

        def values_at(moment: datetime) -> tuple[int, ...]:
            summary = summarize(account, moment, ingests)
            return summary.used_credits, summary.invoiced_credits, summary.pending_credits

        threshold = threshold_credits(plan)
        limits = []
        if threshold is not None:
            label = f"Invoice threshold (${plan.threshold_usd})"
            limits.append(Limit("threshold", label, threshold))
        if plan.cap_credits is not None:
            limits.append(Limit("cap_credits", "Cap", plan.cap_credits))
        return Chart(
            unit="overage credits",
            period_at=lambda moment: summarize(account, moment).period,
            lines=(
                Line("used_credits", "Used"),
                Line("invoiced_credits", "Invoiced"),
                Line("pending_credits", "Pending"),
            ),
            limits=tuple(limits),
            values_at=values_at,
        )
