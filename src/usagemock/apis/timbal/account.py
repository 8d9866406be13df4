"""Timbal accounts: overage credits beyond a plan's included credits, invoiced in steps."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from usagemock.apis.timbal.facts import NAME
from usagemock.domain.identity import rng_for
from usagemock.domain.periods import Period, monthly_period
from usagemock.domain.usage import Ingest, UsageCurve


@dataclass(frozen=True)
class TimbalPlan:
    """How an org is billed for overage credits."""

    metered: bool
    """False for a free plan with no period anchor: no metered window, nothing accrues."""
    included_credits: int
    """Credits the plan includes each period; overage starts after them."""
    overage_enabled: bool
    rate_cents_per_1k: int | None
    """None when overage pricing is unavailable for the plan."""
    threshold_usd: int | None
    """Pending overage value (whole USD) that fires an interim invoice; None bills at period end."""
    cap_credits: int | None
    """Ceiling on overage credits per period; None is unlimited."""


@dataclass(frozen=True)
class TimbalAccount:
    """One Timbal organisation: plan, period anchor and how it consumes credits."""

    org_id: str
    plan: TimbalPlan
    anchor: datetime
    curve: UsageCurve

    @property
    def api(self) -> str:
        """Timbal: the API whose account this is."""
        return NAME


@dataclass(frozen=True)
class OverageSummary:
    """The facts ``GET /orgs/{org_id}/billing/overage`` reports."""

    enabled: bool
    used_credits: int
    invoiced_credits: int
    pending_credits: int
    period: Period | None
    rate_cents_per_1k: int | None
    threshold_usd: int | None
    cap_credits: int | None


def threshold_credits(plan: TimbalPlan) -> int | None:
    """Pending credits whose value in whole USD first reaches the interim-invoice threshold."""
    if plan.threshold_usd is None or not plan.rate_cents_per_1k:
        return None
    # value_usd = floor(pending * rate / 1000 / 100) >= threshold  <=>  pending >= this
    return max(1, math.ceil(plan.threshold_usd * 100_000 / plan.rate_cents_per_1k))


def summarize(
    account: TimbalAccount, now: datetime, ingests: Iterable[Ingest] = ()
) -> OverageSummary:
    """The overage summary of ``account`` at ``now``, counting credits ingested by hand."""
    plan = account.plan
    if not plan.metered:
        return OverageSummary(False, 0, 0, 0, None, None, None, None)
    period = monthly_period(account.anchor, now)
    used, invoiced = _settle(account, period, now, ingests) if plan.overage_enabled else (0, 0)
    return OverageSummary(
        enabled=plan.overage_enabled,
        used_credits=used,
        invoiced_credits=invoiced,
        pending_credits=used - invoiced,
        period=period,
        rate_cents_per_1k=plan.rate_cents_per_1k,
        threshold_usd=plan.threshold_usd,
        cap_credits=plan.cap_credits,
    )


def _settle(
    account: TimbalAccount, period: Period, now: datetime, ingests: Iterable[Ingest]
) -> tuple[int, int]:
    """Overage used and invoiced in ``period`` up to ``now``: (used, invoiced).

    Between ingests usage accrues continuously, so pending reaches the threshold exactly and each
    interim invoice bills one threshold's worth. An ingest adds usage at once: if pending then
    reaches the threshold, the interim invoice bills all of it. The cap stops accrual.
    """
    plan, step = account.plan, threshold_credits(account.plan)

    def overage(consumed: int) -> int:
        over = max(consumed - plan.included_credits, 0)
        return over if plan.cap_credits is None else min(over, plan.cap_credits)

    # stable by time only: ingests at one moment land in the order they were made
    dated = sorted(
        (i for i in ingests if period.start <= i.at <= now and i.at < period.end),
        key=lambda i: i.at,
    )
    used = invoiced = extra = 0
    for moment, amount in [*((i.at, i.amount) for i in dated), (now, 0)]:
        accrued = overage(account.curve.at(period, moment) + extra)
        if step:  # continuous accrual up to this moment
            invoiced += (accrued - invoiced) // step * step
        used, extra = accrued, extra + amount
        if amount:  # the ingest lands at once
            used = overage(account.curve.at(period, moment) + extra)
            if step and used - invoiced >= step:
                invoiced = used
    return used, invoiced


_INCLUDED = (1_000_000, 5_000_000, 20_000_000)
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# (share of orgs, state) - a spread a frontend can browse by trying different org ids
_STATES = (
    (10, "no_window"),
    (15, "disabled"),
    (20, "under_included"),
    (55, "overage"),
)


@functools.lru_cache(maxsize=4096)
def generate_account(org_id: str, seed: int) -> TimbalAccount:
    """The account any org id maps to when no fixture names it: deterministic from (seed, id)."""
    rng = rng_for(seed, "timbal", org_id)
    state = rng.choices([s for _, s in _STATES], [w for w, _ in _STATES])[0]
    included = rng.choice(_INCLUDED)
    rate = rng.choice((5, 8, 10, 15, 25))
    if state == "overage":
        total = round(included * rng.uniform(1.2, 4.0))
        opening = round(total * rng.uniform(0.3, 0.5))
    else:
        total, opening = round(included * rng.uniform(0.1, 0.9)), 0
    excess = max(total - included, 1)
    plan = TimbalPlan(
        metered=state != "no_window",
        included_credits=included,
        overage_enabled=state in ("overage", "under_included"),
        rate_cents_per_1k=rate if state != "no_window" else None,
        threshold_usd=rng.choice((None, 50, 100, 250, 500)),
        # unlimited, generous, or tight enough that the org reaches its cap mid-period
        cap_credits=rng.choice((None, excess * 3, max(excess // 2, 1))),
    )
    anchor = _EPOCH.replace(day=rng.randint(1, 28), hour=rng.randint(0, 23))
    return TimbalAccount(
        org_id=org_id,
        plan=plan,
        anchor=anchor,
        curve=UsageCurve(expected_total=total, opening=opening, seed=rng.getrandbits(32)),
    )
