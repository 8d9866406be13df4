"""The documented rules: each catches its own break, and every mock response keeps all of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SettableClock, bearer, in_process_client
from usagemock.rules import KENBUN, TIMBAL, violations

GOOD_TIMBAL: dict[str, Any] = {
    "enabled": True,
    "cap_credits": 100,
    "used_credits": 30,
    "invoiced_credits": 20,
    "pending_credits": 10,
    "period_start": "2026-03-01T00:00:00Z",
    "period_end": "2026-04-01T00:00:00Z",
    "rate_cents_per_1k": 10,
    "threshold_usd": 5,
}
GOOD_KENBUN: dict[str, Any] = {
    "monthly_events": 500_000,
    "free_tier_limit": 500_000,
    "overage_rate_cents": 50,
    "overage_unit": 10_000,
    "overage": False,
    "billing_cycle_start": "2026-03-01T00:00:00Z",
    "billing_cycle_end": "2026-03-31T23:59:59Z",
    "org_id": "org_1",
    "org_name": "Acme",
    "subscription_status": "active",
    "trial_ends_at": None,
}


def test_good_bodies_keep_every_rule() -> None:
    """The documented examples keep every rule, including usage exactly at the limit."""
    assert violations("timbal", GOOD_TIMBAL) == []
    assert violations("kenbun", GOOD_KENBUN) == []


@pytest.mark.parametrize(
    ("api", "change", "rule"),
    [
        ("timbal", {"used_credits": 31}, "used_is_invoiced_plus_pending"),
        ("timbal", {"pending_credits": -1, "used_credits": 19}, "credits_whole_and_not_negative"),
        ("timbal", {"rate_cents_per_1k": -5}, "credits_whole_and_not_negative"),
        ("timbal", {"period_end": None}, "period_bounds"),
        ("timbal", {"period_start": "2026-05-01T00:00:00Z"}, "period_bounds"),
        ("timbal", {"cap_credits": 29}, "cap_not_exceeded"),
        ("kenbun", {"monthly_events": 500_001}, "overage_flag"),
        ("kenbun", {"overage": True}, "overage_flag"),
        ("kenbun", {"trial_ends_at": "2026-03-20T00:00:00Z"}, "trial_only_when_trialing"),
        ("kenbun", {"billing_cycle_end": "2026-03-01T00:00:00Z"}, "cycle_order"),
        ("kenbun", {"overage_unit": 0}, "counts_not_negative"),
        ("kenbun", {"monthly_events": -1, "overage": False}, "counts_not_negative"),
        ("kenbun", {"subscription_status": "paused"}, "status_documented"),
    ],
)
def test_each_rule_catches_its_break(api: str, change: dict[str, Any], rule: str) -> None:
    """Breaking one documented fact is reported under that rule's name."""
    body = {**(GOOD_TIMBAL if api == "timbal" else GOOD_KENBUN), **change}
    assert any(v.startswith(f"{rule}:") for v in violations(api, body)), violations(api, body)


def test_rules_leave_type_errors_to_the_schema() -> None:
    """A missing or mistyped field is a schema failure, not a crash inside a rule."""
    assert violations("kenbun", {"monthly_events": "many"}) == []
    assert all(rule({}) == [] for rule in (*TIMBAL, *KENBUN))


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
SEEDS = (0, 1, 7, 2**31, 123456789)
# One app per (api, seed), moved through time by its clock: building an app per example would
# spend the test's time in start-up rather than in the rules.
CLOCK = SettableClock()
CLIENTS = {
    (api, seed): in_process_client(CLOCK, seed=seed, api=api)
    for api in ("timbal", "kenbun")
    for seed in SEEDS
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org_id=st.text(min_size=1, max_size=60), seed=st.sampled_from(SEEDS), now=moments)
async def test_every_timbal_response_keeps_the_rules(org_id: str, seed: int, now: datetime) -> None:
    """Over many orgs, seeds and moments, the Timbal mock never breaks a documented rule."""
    CLOCK.now = now
    path = f"/orgs/{quote(org_id, safe='')}/billing/overage"
    response = await CLIENTS["timbal", seed].get(path, headers=bearer("t"))
    if response.status_code == 404:  # ids such as '.' or '..' normalise to another path
        return
    assert response.status_code == 200, response.text
    assert violations("timbal", response.json()) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    token=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1),
    seed=st.sampled_from(SEEDS),
    now=moments,
)
async def test_every_kenbun_response_keeps_the_rules(token: str, seed: int, now: datetime) -> None:
    """Over many tokens, seeds and moments, the Kenbun mock never breaks a documented rule."""
    CLOCK.now = now
    response = await CLIENTS["kenbun", seed].get("/usage", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert violations("kenbun", body) == []
    start = datetime.fromisoformat(body["billing_cycle_start"])
    end = datetime.fromisoformat(body["billing_cycle_end"])
    assert start <= now <= end + timedelta(seconds=1), "the cycle covers the moment asked about"
