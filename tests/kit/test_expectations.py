"""Scenario files double as expectations: a mock in a scenario answers as the scenario promises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.kit.broken_servers import OWNED, TOKEN
from tests.kit.conftest import finished, run_kit
from usagemock.kit.checks import SCENARIO_EXPECTATIONS
from usagemock.kit.expectations import operators, unmet
from usagemock.scenarios import load_scenarios, scenario_schema
from usagemock.settings import Settings
from usagemock.web.app import create_app

SCENARIOS = load_scenarios()
PROMISED = sorted(
    (name, api) for name, s in SCENARIOS.items() for api in s.apis if s.expectations(api)
)


def test_unmet_reads_literals_comparisons_and_field_references() -> None:
    """Literals must equal; one comparison may name another field with a dollar sign."""
    body = {"monthly_events": 500_001, "free_tier_limit": 500_000, "trial_ends_at": None}
    assert unmet({"monthly_events": {">": "$free_tier_limit"}, "trial_ends_at": None}, body) == []
    assert unmet({"monthly_events": {"<=": "$free_tier_limit"}}, body) == [
        "monthly_events is 500001, expected <= $free_tier_limit (500000)"
    ]
    assert unmet({"trial_ends_at": {"!=": None}}, body) == [
        "trial_ends_at is None, expected != None"
    ]
    assert unmet({"monthly_events": {">": None}}, body), "an impossible comparison is unmet"
    assert unmet({"status": 403}, body) == [], "the status is the check's job, not the body's"


def test_scenario_files_and_the_kit_agree_on_operators() -> None:
    """The scenario schema allows exactly the comparisons the kit can evaluate."""
    condition = scenario_schema()["properties"]["kenbun"]["properties"]["expect"]
    allowed = condition["additionalProperties"]["anyOf"][1]["propertyNames"]["enum"]
    assert tuple(allowed) == operators()


def test_every_scenario_with_steady_answers_promises_something() -> None:
    """Only scenarios whose answers vary by design (slow, flaky) carry no expectation."""
    silent = sorted(
        {name for name, s in SCENARIOS.items() if not any(s.expectations(api) for api in s.apis)}
    )
    assert silent == ["flaky", "slow"]


def _mock(api: str, scenario: str, tmp_path: Path) -> Any:
    access = tmp_path / "access.yaml"
    access.write_text(json.dumps({"tokens": {TOKEN: {"org": OWNED[0], "can_read": list(OWNED)}}}))
    return create_app(Settings(api=api, state=":memory:", fixtures=access, scenario=scenario))


@pytest.mark.parametrize(("scenario", "api"), PROMISED)
def test_the_mock_keeps_every_scenario_promise(scenario: str, api: str, tmp_path: Path) -> None:
    """The kit, told the scenario, finds the mock answering as the scenario file promises."""
    events = run_kit(
        api,
        _mock(api, scenario, tmp_path),
        org_ids=OWNED,
        max_examples=8,
        samples=5,
        scenario=scenario,
        expect=SCENARIOS[scenario].expectations(api),
    )
    result = finished(events)
    assert result.passed, [f.title for f in result.findings]


@pytest.mark.parametrize(
    ("running", "promised", "api"),
    [
        ("at_limit", "just_over_limit", "kenbun"),
        ("fresh_free_tier", "cap_reached", "timbal"),
        ("trial_active", "trial_expired", "kenbun"),
        ("forbidden", "unlimited_cap", "timbal"),
    ],
)
def test_a_server_in_another_state_breaks_the_promise(
    running: str, promised: str, api: str, tmp_path: Path
) -> None:
    """A server that is not in the promised state fails the scenario check, and only it."""
    events = run_kit(
        api,
        _mock(api, running, tmp_path),
        org_ids=OWNED,
        max_examples=8,
        samples=5,
        scenario=promised,
        expect=SCENARIOS[promised].expectations(api),
    )
    result = finished(events)
    assert not result.passed
    assert {f.check for f in result.findings} == {SCENARIO_EXPECTATIONS}
