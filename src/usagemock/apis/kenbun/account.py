"""Kenbun accounts: monthly event usage against a plan's free tier, per calendar month."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from usagemock.apis.kenbun.facts import NAME
from usagemock.domain.identity import company_name, derive_seed, rng_for
from usagemock.domain.periods import Period, calendar_month
from usagemock.domain.usage import Ingest, UsageCurve, ingested


class SubscriptionStatus(StrEnum):
    """The seven subscription states Kenbun documents."""

    ACTIVE = "active"
    TRIALING = "trialing"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    ENDED = "ended"
    EXPIRED = "expired"
    NONE = "none"


@dataclass(frozen=True)
class KenbunPlan:
    """What a Kenbun plan includes and what overage costs."""

    free_tier_limit: int
    overage_unit: int
    overage_rate_cents: int


@dataclass(frozen=True)
class Trial:
    """A free trial that ends at a set moment, after which the subscription takes ``then``."""

    ends_at: datetime
    then: SubscriptionStatus


@dataclass(frozen=True)
class KenbunAccount:
    """One Kenbun organisation: identity, plan, subscription and how it consumes events."""

    org_id: str
    org_name: str
    plan: KenbunPlan
    status: SubscriptionStatus
    curve: UsageCurve
    trial: Trial | None = None
    """A dated trial; a ``trialing`` account without one is on a trial that runs to cycle end."""

    @property
    def api(self) -> str:
        """Kenbun: the API whose account this is."""
        return NAME


@dataclass(frozen=True)
class EventUsage:
    """An account's usage at one moment, the facts ``GET /usage`` reports."""

    account: KenbunAccount
    cycle: Period
    monthly_events: int
    status: SubscriptionStatus
    trial_ends_at: datetime | None

    @property
    def overage(self) -> bool:
        """Documented: true when usage exceeds the free tier (equal to it is not overage)."""
        return self.monthly_events > self.account.plan.free_tier_limit

    @property
    def estimated_overage_cents(self) -> float:
        """Documented: excess events / overage_unit * overage_rate_cents."""
        plan = self.account.plan
        excess = max(self.monthly_events - plan.free_tier_limit, 0)
        return excess / plan.overage_unit * plan.overage_rate_cents

    @property
    def billing_cycle_end(self) -> datetime:
        """The documented end is the cycle's last second (``...T23:59:59Z``), not the next start."""
        return self.cycle.end - timedelta(seconds=1)


_LIMITS = (100_000, 250_000, 500_000, 1_000_000, 5_000_000)
_UNITS = (1_000, 10_000, 100_000)
_STATUSES = (
    (SubscriptionStatus.ACTIVE, 45),
    (SubscriptionStatus.TRIALING, 15),
    (SubscriptionStatus.PAST_DUE, 10),
    (SubscriptionStatus.CANCELED, 8),
    (SubscriptionStatus.EXPIRED, 7),
    (SubscriptionStatus.ENDED, 5),
    (SubscriptionStatus.NONE, 10),
)
# (share of accounts, low and high end of the period's total as a multiple of the free tier)
_USAGE_BANDS = ((30, 0.05, 0.6), (20, 0.6, 0.95), (15, 0.95, 1.1), (35, 1.2, 6.0))


@functools.lru_cache(maxsize=4096)
def generate_account(org_id: str, seed: int, org_name: str | None = None) -> KenbunAccount:
    """The account of ``org_id`` before anyone changes it: deterministic from (seed, org id).

    ``org_name`` overrides the generated name when a fixtures file gives one.
    """
    rng = rng_for(seed, "kenbun", org_id)
    plan = KenbunPlan(
        free_tier_limit=rng.choice(_LIMITS),
        overage_unit=rng.choice(_UNITS),
        overage_rate_cents=rng.choice((5, 10, 25, 50, 100)),
    )
    status = rng.choices([s for s, _ in _STATUSES], [w for _, w in _STATUSES])[0]
    _, low, high = rng.choices(_USAGE_BANDS, [band[0] for band in _USAGE_BANDS])[0]
    total = round(plan.free_tier_limit * rng.uniform(low, high))
    # Heavy users load a batch at the start of each cycle, so they are over the limit early on.
    opening = round(total * rng.uniform(0.2, 0.4)) if high > 1.1 else 0
    return KenbunAccount(
        org_id=org_id,
        org_name=org_name or company_name(derive_seed(seed, "kenbun-name", org_id)),
        plan=plan,
        status=status,
        curve=UsageCurve(expected_total=total, opening=opening, seed=rng.getrandbits(32)),
    )


def usage_at(account: KenbunAccount, now: datetime, ingests: Iterable[Ingest] = ()) -> EventUsage:
    """What ``GET /usage`` reports for ``account`` at ``now``, counting events ingested by hand."""
    cycle = calendar_month(now)
    status, trial_ends_at = account.status, None
    if account.trial is not None:
        if now < account.trial.ends_at:
            status, trial_ends_at = SubscriptionStatus.TRIALING, account.trial.ends_at
        else:
            status = account.trial.then
    elif status is SubscriptionStatus.TRIALING:
        trial_ends_at = cycle.end  # an undated trial runs to the end of each cycle
    return EventUsage(
        account=account,
        cycle=cycle,
        monthly_events=account.curve.at(cycle, now) + ingested(ingests, cycle, now),
        status=status,
        trial_ends_at=trial_ends_at,
    )
