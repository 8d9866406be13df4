"""The generated cases: schemathesis' engine run on the plan's schema, folded into our stages.

The engine runs its phases (examples, coverage, fuzzing, and stateful where the spec has links)
with positive and negative data; each of its scenarios becomes one
:class:`~usagemock.kit.events.StageFinished` per phase and operation. A 400 to a request that
was not valid HTTP is the parser's answer and is not judged (:mod:`usagemock.kit.wire`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from schemathesis import BaseSchema
from schemathesis.engine import Status, from_schema
from schemathesis.engine import events as engine_events
from schemathesis.engine.recorder import ScenarioRecorder

from usagemock.kit import wire
from usagemock.kit.events import Finding, StageFinished
from usagemock.kit.findings import ERROR_CHECK, ERROR_TITLE, finding, tally
from usagemock.kit.plan import Plan


def generated(plan: Plan, schema: BaseSchema) -> list[StageFinished]:
    """Run schemathesis' engine and fold its scenarios into one stage per phase and operation."""
    stages: dict[tuple[str, str], StageFinished] = {}

    def add(stage: StageFinished) -> None:
        key = (stage.stage, stage.operation)
        old = stages.get(key)
        if old is not None:
            stage = StageFinished(
                api=plan.api,
                stage=stage.stage,
                operation=stage.operation,
                requests=old.requests + stage.requests,
                checks=old.checks + stage.checks,
                findings=old.findings + stage.findings,
                skipped=old.skipped if stage.skipped is None else stage.skipped,
                refused_by_http=old.refused_by_http + stage.refused_by_http,
            )
        stages[key] = stage

    for event in from_schema(schema).execute():
        if isinstance(event, engine_events.ScenarioFinished) and event.is_test_scenario:
            add(_scenario_stage(plan, event))
        elif isinstance(event, engine_events.PhaseFinished) and event.status == Status.SKIP:
            reason = event.phase.skip_reason
            if event.phase.name.value == "stateful" and reason is not None:
                add(
                    StageFinished(
                        api=plan.api,
                        stage="stateful",
                        operation="*",
                        requests=0,
                        skipped="the spec declares no links between operations"
                        if reason.value == "not_applicable"
                        else str(reason.value),
                    )
                )
        elif isinstance(event, engine_events.NonFatalError):
            add(_error_stage(plan, event))
        elif isinstance(event, engine_events.Interrupted):
            # The engine catches Ctrl+C and finishes quietly: a run cut short must stop here,
            # not go on to the samples and a verdict on whatever it had sent.
            raise KeyboardInterrupt
    return list(stages.values())


def _scenario_stage(plan: Plan, event: engine_events.ScenarioFinished) -> StageFinished:
    """One scenario of the engine (a phase on an operation) as a stage, its checks tallied."""
    recorder = event.recorder
    counts: Counter[str] = Counter()
    findings = []
    refused = 0
    for case_id, nodes in recorder.checks.items():
        if _refused_by_parser(recorder, case_id):
            refused += 1
            continue
        results = (
            (node.name, node.status, node.failure_info.failure if node.failure_info else None)
            for node in nodes
        )
        for check, failure in tally(plan.api, results, counts):
            findings.append(
                _recorded_finding(plan, event.phase.value, recorder, case_id, check, failure)
            )
    skipped = event.skip_reason if event.status == Status.SKIP else None
    return StageFinished(
        api=plan.api,
        stage=event.phase.value,
        operation=event.label or recorder.label,
        requests=sum(1 for i in recorder.interactions.values() if i.response is not None),
        checks=counts,
        findings=tuple(findings),
        skipped=skipped,
        refused_by_http=refused,
    )


def _refused_by_parser(recorder: ScenarioRecorder, case_id: str) -> bool:
    """Whether a recorded exchange is an HTTP parser's 400 to a request that was not HTTP."""
    interaction = recorder.interactions.get(case_id)
    if interaction is None or interaction.response is None:
        return False
    request = interaction.request
    headers = [(name, value) for name, values in request.headers.items() for value in values]
    return wire.refused_by_parser(interaction.response.status_code, request.uri, headers)


def _recorded_finding(
    plan: Plan, stage: str, recorder: ScenarioRecorder, case_id: str, check: str, failure: Any
) -> Finding:
    """A failure the engine recorded, with the request and response of its case."""
    interaction = recorder.interactions.get(case_id)
    if interaction is None:
        return finding(plan, stage, check, failure.title, failure.message, failure.operation)
    request = interaction.request
    headers = {name: values[0] for name, values in request.headers.items() if values}
    return finding(
        plan,
        stage,
        check,
        failure.title,
        failure.message,
        failure.operation or recorder.label,
        method=request.method,
        url=request.uri,
        headers=headers,
        response=interaction.response,
    )


def _error_stage(plan: Plan, event: engine_events.NonFatalError) -> StageFinished:
    """An error the engine met (no response at all) as a stage with one finding."""
    message = f"{event.info.title}: {event.info.message}".strip()
    error = finding(plan, "errors", ERROR_CHECK, ERROR_TITLE, message, event.label)
    return StageFinished(
        api=plan.api, stage="errors", operation=event.label, requests=0, findings=(error,)
    )
