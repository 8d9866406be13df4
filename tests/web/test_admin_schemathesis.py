"""Schemathesis against the admin API (``/_usagemock``): every check, both data modes, stateful.

Each app runs in-process with ``validate_responses=True``, so a response that breaks
specs/admin.yaml leaves as a 500 that ``not_a_server_error`` reports. The stateful phase walks the
OpenAPI links (listScenarios -> applyScenario -> getOrg/ingest/setFault/getChart, ingest ->
getOrg/resetOrg/getChart, setFault -> clearFault) and the test checks that each link was followed
with the org it names, in rounds of chains from seeds SEED, SEED + 1, ... until all were (a
broken link is never followed, so it fails after STATEFUL_ROUNDS rounds). One round is not
enough: with 80 chains about 2 seeds in 5 miss some link (setFault -> clearFault needs four
calls in a row to succeed), and which seeds do depends on the process, not only on the seed:
Hypothesis also draws constants found in every local module imported so far (a fault's
``status``, 400-599, may be one of the status codes written in any ``usagemock`` module), so a
pytest worker whose earlier tests imported more of them generates other chains from one seed.

Valid data is held to schemathesis' default ``positive_data_acceptance``: no 400 for a
schema-valid request (the spec says exactly what is accepted; a valid request the mock's state
cannot take is a 409), and ``use_after_free`` runs too (resetting an org is ``POST .../reset``,
not a DELETE, since the org still answers afterwards).

The admin API's security is optional (``{}`` or the admin bearer): whether a token is needed is the
server's choice, so schemathesis' ``ignored_auth`` skips it, and the 401 for a request without the
configured token is asserted by the tests at the bottom.
"""

from __future__ import annotations

from typing import Any, ClassVar

import hypothesis
import schemathesis
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput

from tests.conftest import FIXED_NOW
from usagemock.domain.periods import isoformat
from usagemock.settings import Settings
from usagemock.web.app import create_app

SEED = 20260317  # fixed, so a failure replays exactly; change it to explore other inputs
MAX_EXAMPLES = 15  # fuzzed cases per operation and mode, on top of the examples/coverage cases
MAX_RESPONSE_TIME = 5.0  # seconds; in-process answers take milliseconds, so only a hang trips it
ADMIN_TOKEN = "s3cret"
STATEFUL_SCENARIOS = 80  # state machine runs per round; each a chain of up to STATEFUL_STEPS calls
STATEFUL_STEPS = 8
# Rounds at most, each from the next seed, until every link was followed. One round misses
# setFault -> clearFault for 1 seed in 5 (16 of 80 seeds) and each other link for under 1 in 10,
# so eight leave a working link unfollowed about once in 400,000 runs (0.2 ** 8); most runs need
# one round or two, and a broken link fails after all eight (about a minute).
STATEFUL_ROUNDS = 8

LINKS = {  # (source operationId, target operationId) of every link in specs/admin.yaml
    ("listScenarios", "applyScenario"),
    ("applyScenario", "getOrg"),
    ("applyScenario", "ingest"),
    ("applyScenario", "setFault"),
    ("applyScenario", "getChart"),
    ("ingest", "getChart"),
    ("ingest", "getOrg"),
    ("ingest", "resetOrg"),
    ("setFault", "clearFault"),
}


def admin_schema(mode: GenerationMode, *, admin_token: str | None = None) -> BaseSchema:
    """The admin API's document as a fresh in-process mock serves it, set to run every check.

    With ``admin_token`` the server requires it and schemathesis sends it as the admin bearer.
    """
    settings = Settings(state=":memory:", validate_responses=True, admin_token=admin_token)
    app = create_app(settings, real_clock=lambda: FIXED_NOW)
    config: dict[str, Any] = {
        "seed": SEED,
        "checks": {
            "enabled": True,
            "max_response_time": MAX_RESPONSE_TIME,
        },
        "generation": {
            "mode": mode.value,
            "max-examples": MAX_EXAMPLES,
            "database": "none",  # no .hypothesis/ directory: the seed is what replays a run
        },
    }
    if admin_token is not None:
        config["auth"] = {"openapi": {"admin_bearer": {"bearer": admin_token}}}
    return schemathesis.openapi.from_asgi(
        "/_usagemock/openapi.json", app, config=schemathesis.Config.from_dict(config)
    )


def operation_id(case: Case) -> str:
    """The operationId of the operation ``case`` calls."""
    return str(case.operation.definition.raw["operationId"])


@schemathesis.pytest.parametrize(
    open_on_loopback=admin_schema(GenerationMode.POSITIVE),
    with_admin_token=admin_schema(GenerationMode.POSITIVE, admin_token=ADMIN_TOKEN),
)
def test_valid_admin_requests_pass_every_check(case: Case) -> None:
    """A spec-valid admin request (with the token when one is set) passes every check."""
    response = case.call_and_validate()
    assert response.status_code != 401, (
        f"usagemock refused the admin token on {case.method} {case.formatted_path}"
    )


@schemathesis.pytest.parametrize(
    open_on_loopback=admin_schema(GenerationMode.NEGATIVE),
    with_admin_token=admin_schema(GenerationMode.NEGATIVE, admin_token=ADMIN_TOKEN),
)
def test_invalid_admin_requests_get_documented_errors(case: Case) -> None:
    """A request breaking the admin spec, or an undeclared method, gets a documented error."""
    case.call_and_validate()


@schemathesis.pytest.parametrize(
    with_admin_token=admin_schema(GenerationMode.POSITIVE, admin_token=ADMIN_TOKEN)
)
def test_admin_requests_with_a_wrong_token_get_401(case: Case) -> None:
    """With an admin token set, a valid request carrying another token gets a conformant 401."""
    response = case.call_and_validate(headers={"Authorization": "Bearer not-the-admin-token"})
    assert response.status_code == 401, (
        f"usagemock answered {response.status_code} to {case.method} {case.formatted_path} "
        "with a wrong admin token"
    )


@schemathesis.pytest.parametrize(
    with_admin_token=admin_schema(GenerationMode.POSITIVE, admin_token=ADMIN_TOKEN)
)
def test_admin_requests_without_a_token_get_401(case: Case) -> None:
    """With an admin token set, a valid request without Authorization gets a conformant 401."""
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    response = case.call_and_validate()
    assert response.status_code == 401, (
        f"usagemock answered {response.status_code} to {case.method} {case.formatted_path} "
        "without the admin token"
    )


def run_links(schema: BaseSchema, admin_token: str | None, seed: int) -> set[tuple[str, str]]:
    """Run the stateful phase on ``schema`` from ``seed``; the declared links it followed."""
    followed: set[tuple[str, str]] = set()
    headers = {} if admin_token is None else {"Authorization": f"Bearer {admin_token}"}

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        calls: ClassVar[dict[str, Case]] = {}

        def setup(self) -> None:
            """Start each chain on a fresh mock, so a replayed chain sees what it saw first."""
            reset = self.schema["/orgs"]["DELETE"].Case(headers=headers).call()
            clock = (
                self.schema["/clock"]["PUT"]
                .Case(headers=headers, body={"now": isoformat(FIXED_NOW), "frozen": True})
                .call()
            )
            assert (reset.status_code, clock.status_code) == (204, 200), "reset failed"

        def step(self, input: StepInput) -> StepOutput:
            output: StepOutput = super().step(input)
            self.calls[input.case.id] = input.case
            transition = input.transition
            if transition is not None and not transition.is_inferred and input.is_applied:
                source = self.calls[transition.parent_id]
                target = input.case.path_parameters or {}
                if (source.path_parameters or {}).items() <= target.items():
                    followed.add((operation_id(source), operation_id(input.case)))
            return output

    hypothesis.seed(seed)(Workflow)
    Workflow.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            phases=[hypothesis.Phase.generate],
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
    return followed


def assert_every_link_followed(schema: BaseSchema, admin_token: str | None = None) -> None:
    """Rounds of the stateful phase, each from the next seed, follow every link in LINKS."""
    followed: set[tuple[str, str]] = set()
    for round_ in range(STATEFUL_ROUNDS):
        followed |= run_links(schema, admin_token, SEED + round_)
        if followed >= LINKS:
            break
    assert followed == LINKS, (
        f"links never followed in {round_ + 1} rounds of {STATEFUL_SCENARIOS} chains (seeds "
        f"{SEED}..{SEED + round_}): {sorted(LINKS - followed)}; followed but not in LINKS: "
        f"{sorted(followed - LINKS)}"
    )


def test_stateful_phase_follows_every_link_and_passes_every_check() -> None:
    """Chains of calls along the admin links pass every check, and every link is followed."""
    assert_every_link_followed(admin_schema(GenerationMode.POSITIVE))


def test_stateful_phase_passes_with_an_admin_token() -> None:
    """The same chains pass every check on a server that requires the admin token."""
    schema = admin_schema(GenerationMode.POSITIVE, admin_token=ADMIN_TOKEN)
    assert_every_link_followed(schema, ADMIN_TOKEN)
