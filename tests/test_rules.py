"""The documented rules: each catches its own break, and every mock response keeps all of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SettableClock, bearer, in_process_client
from usagemock.apis import facts, moment_violations, names, series_violations, violations
from usagemock.apis.kenbun.rules import KENBUN
from usagemock.apis.timbal.rules import TIMBAL
from usagemock.rules import Answer, Kind

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
        ("timbal", {"pending_credits": -1, "used_credits": 19}, "credits_not_negative"),
        ("timbal", {"rate_cents_per_1k": -5}, "credits_not_negative"),
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
        ("kenbun", {"billing_cycle_end": "31/03/2026"}, "timestamps_iso8601"),
        ("timbal", {"threshold_usd": -1}, "threshold_not_negative"),
        ("timbal", {"period_end": "2026-03-01T00:00:00Z"}, "period_bounds"),
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
    body = response.json()
    assert violations("timbal", body) == []
    # The mock's cycle ends on a whole second: a second of skew covers the moment inside it.
    assert moment_violations("timbal", Answer(body, now, now), timedelta(seconds=1)) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # Any visible ASCII but a comma: a comma makes the header a list of credentials (401).
    token=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=","),
        min_size=1,
    ),
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
    assert moment_violations("kenbun", Answer(body, now, now), timedelta(seconds=1)) == []
    start = datetime.fromisoformat(body["billing_cycle_start"])
    end = datetime.fromisoformat(body["billing_cycle_end"])
    assert start <= now <= end + timedelta(seconds=1), "the cycle covers the moment asked about"


NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
SKEW = timedelta(minutes=5)


def _at(body: dict[str, Any], moment: datetime = NOW) -> Answer:
    return Answer(body, moment, moment)


@pytest.mark.parametrize(
    ("api", "change", "moment", "rule"),
    [
        ("kenbun", {}, datetime(2026, 4, 1, 0, 10, tzinfo=UTC), "cycle_contains_now"),
        ("kenbun", {}, datetime(2026, 2, 28, 23, 50, tzinfo=UTC), "cycle_contains_now"),
        (
            "kenbun",
            {"subscription_status": "trialing", "trial_ends_at": "2026-03-15T11:50:00Z"},
            NOW,
            "trial_end_not_past",
        ),
        ("timbal", {}, datetime(2026, 4, 1, 0, 6, tzinfo=UTC), "period_contains_now"),
    ],
)
def test_each_moment_rule_catches_its_break(
    api: str, change: dict[str, Any], moment: datetime, rule: str
) -> None:
    """An answer about a window the moment of asking is not in breaks the moment rule."""
    body = {**(GOOD_TIMBAL if api == "timbal" else GOOD_KENBUN), **change}
    broken = moment_violations(api, _at(body, moment), SKEW)
    assert any(v.startswith(f"{rule}:") for v in broken), broken


def test_moment_rules_allow_clock_skew_at_the_edges() -> None:
    """A cycle ending at 23:59:59 still covers a request a few minutes later, within the skew."""
    late = datetime(2026, 4, 1, 0, 4, tzinfo=UTC)
    early = datetime(2026, 2, 28, 23, 56, tzinfo=UTC)
    trial = {
        **GOOD_KENBUN,
        "subscription_status": "trialing",
        "trial_ends_at": "2026-03-15T11:56:00Z",
    }
    assert moment_violations("kenbun", _at(GOOD_KENBUN, late), SKEW) == []
    assert moment_violations("kenbun", _at(GOOD_KENBUN, early), SKEW) == []
    assert moment_violations("kenbun", _at(trial), SKEW) == []
    assert moment_violations("timbal", _at(GOOD_TIMBAL, late), SKEW) == []
    assert (
        moment_violations("timbal", _at({**GOOD_TIMBAL, "period_start": None, "period_end": None}))
        == []
    )


def test_timestamps_without_an_offset_are_not_judged_against_the_clock() -> None:
    """A timestamp with no UTC offset names no moment: the time rules leave it alone."""
    naive = {**GOOD_KENBUN, "billing_cycle_start": "2020-01-01T00:00:00"}
    assert moment_violations("kenbun", _at(naive), SKEW) == []
    assert violations("kenbun", naive) == []


@pytest.mark.parametrize(
    ("api", "first", "second", "rule"),
    [
        (
            "kenbun",
            {"monthly_events": 10},
            {"monthly_events": 9, "overage": False},
            "events_never_go_down",
        ),
        ("kenbun", {}, {"org_id": "org_2"}, "org_stays_the_same"),
        ("kenbun", {}, {"billing_cycle_end": "2026-04-02T00:00:00Z"}, "cycles_same_or_apart"),
        ("timbal", {}, {"used_credits": 29, "pending_credits": 9}, "credits_never_go_down"),
        ("timbal", {}, {"invoiced_credits": 0, "pending_credits": 30}, "credits_never_go_down"),
        ("timbal", {}, {"period_start": "2026-03-02T00:00:00Z"}, "periods_same_or_apart"),
    ],
)
def test_each_series_rule_catches_its_break(
    api: str, first: dict[str, Any], second: dict[str, Any], rule: str
) -> None:
    """Two answers to one token that contradict each other break the rule across calls."""
    good = GOOD_TIMBAL if api == "timbal" else GOOD_KENBUN
    later = NOW + timedelta(seconds=1)
    broken = series_violations(api, _at({**good, **first}), _at({**good, **second}, later))
    assert any(v.startswith(f"{rule}:") for v in broken), broken


def test_series_rules_allow_what_the_docs_leave_open() -> None:
    """A new cycle may start lower; plans, names and caps may change; usage may grow."""
    next_cycle = {
        **GOOD_KENBUN,
        "monthly_events": 0,
        "overage": False,
        "billing_cycle_start": "2026-04-01T00:00:00Z",
        "billing_cycle_end": "2026-04-30T23:59:59Z",
        "free_tier_limit": 1,
        "org_name": "Renamed",
    }
    later = NOW + timedelta(days=20)
    assert series_violations("kenbun", _at(GOOD_KENBUN), _at(next_cycle, later)) == []
    touching = {
        **GOOD_TIMBAL,
        "period_start": "2026-04-01T00:00:00Z",
        "period_end": "2026-05-01T00:00:00Z",
        "used_credits": 0,
        "invoiced_credits": 0,
        "pending_credits": 0,
    }
    assert series_violations("timbal", _at(GOOD_TIMBAL), _at(touching, later)) == []
    grown = {
        **GOOD_TIMBAL,
        "used_credits": 40,
        "pending_credits": 20,
        "cap_credits": None,
        "enabled": False,
    }
    assert series_violations("timbal", _at(GOOD_TIMBAL), _at(grown, later)) == []


def test_every_rule_names_its_kind_and_source() -> None:
    """Each rule quotes the vendor (documented, inferred) or says why it is ours (assumed)."""
    for api in names():
        for rule in facts(api).every_rule():
            source = rule.source
            assert source.quote, rule.name
            if source.kind is Kind.INFERRED:
                assert source.reasoning and source.document, rule.name
            if source.kind is Kind.DOCUMENTED:
                assert source.document, rule.name
            if source.kind is Kind.ASSUMED:
                assert source.reasoning, rule.name
            assert source.cite().startswith(source.kind.value)
