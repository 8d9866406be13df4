"""Run the contract of one API against a target and emit what happened as events.

Two sources of responses, one set of checks:

- **generated cases** (:mod:`usagemock.kit.generated`): schemathesis' engine runs its phases
  with positive and negative data; ``--org-id`` pins the path parameter for about half the
  cases so real orgs answer 200 and the error paths still run.
- **samples and probes** (:mod:`usagemock.kit.samples`): each known org asked ``samples``
  times, then a few probes every server must answer within the spec.

Every response goes through every check: schemathesis' own and :mod:`usagemock.kit.checks`,
on the **vendor-only contract** (:func:`usagemock.specs.vendor_view`, see
:mod:`usagemock.kit.plan`): what the vendor documents or implies decides pass or fail; where the
server chose otherwise than the mock's assumptions, ``mock_spec_conformance`` adds a note.
:mod:`usagemock.kit.findings` turns what failed into findings.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from usagemock.kit import authmode
from usagemock.kit.events import Event, RunFinished, RunStarted, redact
from usagemock.kit.generated import generated
from usagemock.kit.plan import DEFAULT_MAX_EXAMPLES, DEFAULT_SAMPLES, Plan, build_schema
from usagemock.kit.samples import sampled

__all__ = ["DEFAULT_MAX_EXAMPLES", "DEFAULT_SAMPLES", "Plan", "build_schema", "run"]


def run(plan: Plan) -> Iterator[Event]:
    """Run ``plan``: a RunStarted, one StageFinished per stage and operation, a RunFinished."""
    started = time.perf_counter()
    yield RunStarted(
        api=plan.api,
        target=redact(plan.target.label, plan.token),
        seed=plan.seed,
        max_examples=plan.max_examples,
        samples=plan.samples,
        org_ids=tuple(redact(org, plan.token) for org in plan.org_ids),
        strict=plan.strict,
    )
    schema = build_schema(plan)
    auth_skipped = authmode.not_applicable(plan, schema)
    if auth_skipped is not None:  # a usagemock in open mode: say so first, then run without them
        yield auth_skipped
        schema = build_schema(plan, disabled=authmode.AUTH_CHECKS)
    stages = [*generated(plan, schema), *sampled(plan, schema)]
    yield from stages
    yield RunFinished(
        api=plan.api,
        seed=plan.seed,
        elapsed=time.perf_counter() - started,
        requests=sum(stage.requests for stage in stages),
        findings=tuple(finding for stage in stages for finding in stage.findings),
        strict=plan.strict,
    )
