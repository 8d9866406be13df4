"""What one contract run does (:class:`Plan`) and the schemathesis schema it runs on."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis import BaseSchema

from usagemock.apis import facts
from usagemock.kit import checks
from usagemock.kit.expectations import promised_status
from usagemock.kit.targets import Target
from usagemock.rules import DEFAULT_CLOCK_SKEW
from usagemock.specs import vendor_view

DEFAULT_MAX_EXAMPLES = 100
DEFAULT_SAMPLES = 25


@dataclass(frozen=True)
class Plan:
    """What one contract run does: which API, against what, with which token and budget."""

    api: str
    target: Target
    token: str
    seed: int
    org_ids: tuple[str, ...] = ()
    """Orgs the token owns: pinned into part of the generated cases, and sampled."""
    max_examples: int = DEFAULT_MAX_EXAMPLES
    """Generated cases per operation and phase (schemathesis' ``max-examples``)."""
    samples: int = DEFAULT_SAMPLES
    """Calls per known org, each response checked."""
    scenario: str | None = None
    """The scenario the target runs, if any: its ``expect`` is checked on known orgs."""
    expect: Mapping[str, Any] | None = None
    """What that scenario promises (see :mod:`usagemock.kit.expectations`)."""
    request_timeout: float = 10.0
    strict: bool = False
    """Whether notes (a server choosing otherwise than the mock's assumptions) fail the run."""
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    """How far the server's clock may be from ours before a time rule breaks."""


def _waived_by_scenario(expect: Mapping[str, Any] | None) -> dict[str, Any]:
    """Checks a scenario's promised error status would trip by design, switched off.

    A server in ``server_error`` answers 500 and one in ``org_unresolved`` 400 on purpose; the
    scenario expectation checks that status instead.
    """
    status = promised_status(expect)
    waived = {"positive_data_acceptance": {"enabled": False}} if status >= 400 else {}
    if status >= 500:
        waived["not_a_server_error"] = {"enabled": False}
    return waived


def build_schema(plan: Plan, *, disabled: Sequence[str] = ()) -> BaseSchema:
    """The bundled spec of ``plan.api`` as a schemathesis schema aimed at ``plan.target``.

    ``disabled`` names checks that do not apply to this target.
    """
    config = schemathesis.Config.from_dict(
        {
            "seed": plan.seed,
            "base-url": plan.target.engine_base_url,
            "request-timeout": plan.request_timeout,
            # Keep going after a failure, so one run reports every broken check, not the first.
            "continue-on-failure": True,
            "checks": {
                "enabled": True,
                **checks.auth_check_config(plan.token, plan.org_ids),
                **checks.judging_check_config(plan.clock_skew),
                **checks.expectation_check_config(
                    plan.scenario, plan.expect, plan.token, plan.org_ids
                ),
                **_waived_by_scenario(plan.expect),
                **{name: {"enabled": False} for name in disabled},
            },
            "generation": {
                "mode": "all",
                "max-examples": plan.max_examples,
                "database": "none",  # no .hypothesis/ directory: the seed replays a run
            },
            "auth": {"openapi": {"bearer_auth": {"bearer": plan.token}}},
        }
    )
    # Judged by what the vendor documents or implies; the mock's own choices only make notes.
    document = vendor_view(copy.deepcopy(dict(facts(plan.api).document())))
    schema = schemathesis.openapi.from_dict(document, config=config)
    if plan.target.app is not None:
        schema.app = plan.target.app
    org_param = facts(plan.api).org_param
    if plan.org_ids and org_param is not None:
        pinned = st.sampled_from(plan.org_ids)

        @schema.hook
        def flatmap_path_parameters(ctx: Any, parameters: dict[str, Any]) -> Any:
            if not parameters or org_param not in parameters:  # None: no path parameters
                return st.just(parameters)
            return st.just(parameters) | pinned.map(lambda org: {**parameters, org_param: org})

    return schema
