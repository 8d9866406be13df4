"""Schemathesis against both APIs under every bundled scenario: every check, positive data.

Each (scenario, API) pair the scenario covers gets its own in-process mock started with
``Settings(scenario=NAME)``, so every org it is asked about starts in that scenario; pairs the
scenario does not cover are not generated. Responses are checked against the spec
(``validate_responses=True``) and by schemathesis' checks, and :func:`answers_as_scenario_says`
holds each answer to the scenario's fault: the documented error status it injects, with a body
saying it was injected, and its latency.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import schemathesis
from schemathesis import BaseSchema, Case
from schemathesis.core.transport import Response

from tests.conftest import ACCESS_FIXTURES, FIXED_NOW
from usagemock.scenarios import load_scenarios
from usagemock.settings import Settings
from usagemock.web.app import create_app

SEED = 20260317  # fixed, so a failure replays exactly; change it to explore other inputs
MAX_EXAMPLES = 8  # fuzzed cases per pair, on top of the examples and coverage cases
MAX_RESPONSE_TIME = 5.0  # seconds; only a hang trips it (or a latency fault, given its own)
TOKEN = "acme-admin"  # in fixtures/access.yaml: reads every Timbal org, Kenbun org org_acme
INJECTED = "Injected by usagemock"  # what an injected error says (web/handlers.py)

SCENARIOS = load_scenarios()
PAIR_OF_APP: dict[Any, tuple[str, str]] = {}  # each in-process mock -> (scenario, API) it serves


def fault_of(scenario: str, api: str) -> Mapping[str, Any]:
    """The fault ``scenario`` sets on ``api``'s orgs ({} for none)."""
    return SCENARIOS[scenario].sections[api].get("fault") or {}


def expected_statuses(scenario: str, api: str) -> set[int]:
    """The statuses a valid, authorized request may get under ``scenario``."""
    fault = fault_of(scenario, api)
    status = fault.get("status")
    if status is None:
        return {200}
    return {status} if fault.get("rate", 1) >= 1 else {200, status}


def scenario_schema(scenario: str, api: str) -> BaseSchema:
    """``api``'s document as a mock whose orgs all start in ``scenario`` serves it."""
    settings = Settings(
        api=api,
        scenario=scenario,
        fixtures=ACCESS_FIXTURES,
        validate_responses=True,
        state=":memory:",
    )
    app = create_app(settings, real_clock=lambda: FIXED_NOW)
    PAIR_OF_APP[app] = (scenario, api)
    fault = fault_of(scenario, api)
    slowest = (fault.get("latency_ms", 0) + fault.get("jitter_ms", 0)) / 1000
    checks: dict[str, Any] = {
        "enabled": True,
        "max_response_time": MAX_RESPONSE_TIME + slowest,
        # The scenario's error status is its point: a valid request gets it by design, and
        # answers_as_scenario_says checks that only the injected error carries it.
        "positive_data_acceptance": {
            "expected-statuses": [
                "2xx",
                "401",
                "403",
                "404",
                *map(str, expected_statuses(scenario, api)),
            ]
        },
        "not_a_server_error": {
            "expected-statuses": ["2xx", "3xx", "4xx", *map(str, expected_statuses(scenario, api))]
        },
    }
    generation: dict[str, Any] = {
        "mode": "positive",
        "max-examples": MAX_EXAMPLES,
        "database": "none",  # no .hypothesis/ directory: the seed is what replays a run
    }
    config: dict[str, Any] = {
        "seed": SEED,
        "checks": checks,
        "generation": generation,
        "auth": {"openapi": {"bearer_auth": {"bearer": TOKEN}}},
    }
    if slowest:
        # Every answer waits ~2 s: a couple of fuzzed cases and no coverage phase keep it cheap.
        generation["max-examples"] = 2
        config["phases"] = {"coverage": {"enabled": False}}
    return schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=schemathesis.Config.from_dict(config)
    )


def scenario_check(scenario: str, api: str) -> Any:
    """The check holding each answer under ``scenario`` to what the scenario injects."""
    allowed = expected_statuses(scenario, api)
    latency = fault_of(scenario, api).get("latency_ms", 0) / 1000

    def answers_as_scenario_says(ctx: Any, response: Response, case: Case) -> None:
        """The status is one the scenario allows, injected errors say so, latency holds."""
        status = response.status_code
        assert status in allowed, (
            f"usagemock answered {status} under scenario {scenario}, which allows {sorted(allowed)}"
        )
        if status != 200:
            body = json.loads(response.content)
            said = body.get("detail") or body.get("message") or ""
            assert INJECTED in said, (
                f"usagemock's {status} under scenario {scenario} is not the injected one: {body}"
            )
        assert response.elapsed >= latency, (
            f"usagemock answered in {response.elapsed:.2f} s under scenario {scenario}, "
            f"whose latency is {latency} s"
        )

    return answers_as_scenario_says


PAIRS = sorted((name, api) for name, scenario in SCENARIOS.items() for api in scenario.sections)


@schemathesis.pytest.parametrize(
    **{f"{name}-{api}": scenario_schema(name, api) for name, api in PAIRS}
)
def test_every_scenario_answers_within_the_spec(case: Case) -> None:
    """Under each scenario, a valid request gets what the scenario says and passes every check."""
    name, api = PAIR_OF_APP[case.operation.schema.app]
    case.call_and_validate(additional_checks=[scenario_check(name, api)])
