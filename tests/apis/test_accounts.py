"""Generated accounts: deterministic from the seed, spread across the states a frontend needs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from usagemock.apis.kenbun import account as kenbun
from usagemock.apis.kenbun.account import SubscriptionStatus
from usagemock.apis.timbal import account as timbal

NOW = datetime(2026, 3, 17, 14, 30, tzinfo=UTC)


def test_kenbun_accounts_cover_every_status_and_both_sides_of_the_limit() -> None:
    """Across 500 tokens every documented status appears, and usage is both under and over."""
    usages = [kenbun.usage_at(kenbun.generate_account(f"t{i}", 0), NOW) for i in range(500)]
    statuses = Counter(u.account.status for u in usages)
    assert set(statuses) == set(SubscriptionStatus)
    assert any(u.overage for u in usages) and any(not u.overage for u in usages)


def test_timbal_accounts_cover_the_documented_states() -> None:
    """Across 500 org ids: no window, disabled, unlimited cap, cap reached, interim invoices."""
    summaries = [timbal.summarize(timbal.generate_account(f"o{i}", 0), NOW) for i in range(500)]
    assert any(s.period is None for s in summaries), "no metered window"
    assert any(not s.enabled and s.period for s in summaries), "overage disabled"
    assert any(s.enabled and s.cap_credits is None for s in summaries), "unlimited cap"
    assert any(s.cap_credits and s.used_credits == s.cap_credits for s in summaries), "cap reached"
    assert any(s.invoiced_credits > 0 for s in summaries), "interim invoice fired"
    assert any(s.enabled and s.used_credits == 0 for s in summaries), "under included credits"


@given(key=st.text(), seed=st.integers(0, 2**64))
def test_same_key_and_seed_give_the_same_account(key: str, seed: int) -> None:
    """Generation is a pure function of (key, seed): names, ids and plans repeat exactly."""
    kenbun.generate_account.cache_clear()
    first = kenbun.generate_account(key, seed)
    kenbun.generate_account.cache_clear()
    assert kenbun.generate_account(key, seed) == first


def test_interim_invoices_fire_at_the_whole_usd_threshold() -> None:
    """Pending never reaches the threshold's worth of credits; each step of it is invoiced."""
    plan = timbal.TimbalPlan(
        True, 0, True, rate_cents_per_1k=10, threshold_usd=100, cap_credits=None
    )
    assert timbal.threshold_credits(plan) == 1_000_000  # $100 at 10 cents per 1k credits
    for i in range(200):
        summary = timbal.summarize(timbal.generate_account(f"x{i}", 5), NOW)
        step = timbal.threshold_credits(timbal.generate_account(f"x{i}", 5).plan)
        if step:
            assert summary.pending_credits < step
            assert summary.invoiced_credits % step == 0
