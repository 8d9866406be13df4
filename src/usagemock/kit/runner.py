"""Run the contract of one API against a target and emit what happened as events.

Two sources of responses, one set of checks:

- **generated cases**: schemathesis' engine runs its phases (examples, coverage, fuzzing, and
  stateful where the spec has links) with positive and negative data; ``--org-id`` pins the path
  parameter for about half the cases so real orgs answer 200 and the error paths still run.
- **samples and probes**: each known org asked ``samples`` times (real data moves between calls,
  and a bug that shows on one call in five must not hide behind a clean retry), then a few probes
  every server must answer within the spec: no token, an invalid token, odd and unknown org ids.

Every response goes through every check: schemathesis' own and :mod:`usagemock.kit.checks`,
on the **vendor-only contract** (:func:`usagemock.specs.vendor_view`): what the vendor documents
or implies decides pass or fail; where the server chose otherwise than the mock's assumptions,
``mock_spec_conformance`` adds a note. The samples of one org are also held, pair by pair, to
the rules across calls (each API's ``ApiFacts.series``). A 400 to a request that was not valid
HTTP is the parser's answer and is not judged (:mod:`usagemock.kit.wire`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis import BaseSchema, Case, CheckResult, Response
from schemathesis.engine import Status, from_schema
from schemathesis.engine import events as engine_events
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.errors import FailureGroup

from usagemock.apis import facts
from usagemock.kit import authmode, checks, sources, wire
from usagemock.kit.events import (
    Event,
    Finding,
    RunFinished,
    RunStarted,
    StageFinished,
    redact,
)
from usagemock.kit.expectations import promised_status
from usagemock.kit.replay import curl
from usagemock.kit.targets import Target
from usagemock.rules import DEFAULT_CLOCK_SKEW, Answer, Source
from usagemock.specs import vendor_view

DEFAULT_MAX_EXAMPLES = 100
DEFAULT_SAMPLES = 25
#: Org ids no server should trip over: non-ASCII, very long, an encoded slash, spaces.
ODD_ORG_IDS = ("org_ünïcødé_組織", "o" * 1024, "org%2Fslash", "org with spaces")
_BODY_EXCERPT = 600
ERROR_CHECK = sources.ERROR_CHECK
#: schemathesis' check of documented statuses; an undocumented 4xx it finds is only a note.
STATUS_CHECK = "status_code_conformance"
ERROR_TITLE = "every request gets a response (no network error, timeout or crash)"


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
    stages = [*_generated(plan, schema), *_sampled(plan, schema)]
    yield from stages
    yield RunFinished(
        api=plan.api,
        seed=plan.seed,
        elapsed=time.perf_counter() - started,
        requests=sum(stage.requests for stage in stages),
        findings=tuple(finding for stage in stages for finding in stage.findings),
        strict=plan.strict,
    )


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
            "base-url": plan.target.base_url,
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
    if plan.org_ids:
        pinned = st.sampled_from(plan.org_ids)

        @schema.hook
        def flatmap_path_parameters(ctx: Any, parameters: dict[str, Any]) -> Any:
            if not parameters or "org_id" not in parameters:  # None: no path parameters
                return st.just(parameters)
            return st.just(parameters) | pinned.map(lambda org: {**parameters, "org_id": org})

    return schema


def _generated(plan: Plan, schema: BaseSchema) -> list[StageFinished]:
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
    return list(stages.values())


def _scenario_stage(plan: Plan, event: engine_events.ScenarioFinished) -> StageFinished:
    recorder = event.recorder
    counts: Counter[str] = Counter()
    findings = []
    refused = 0
    for case_id, nodes in recorder.checks.items():
        if _refused_by_parser(recorder, case_id):
            refused += 1
            continue
        for node in nodes:
            if _foreign(plan.api, node.name):
                continue
            counts[node.name] += 1
            if node.status == Status.FAILURE and node.failure_info is not None:
                failure = node.failure_info.failure
                findings.append(
                    _recorded_finding(
                        plan, event.phase.value, recorder, case_id, node.name, failure
                    )
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


def _foreign(api: str, check: str) -> bool:
    """Whether ``check`` is another API's rule (registered process-wide, silent on this one)."""
    return any(check in names for other, names in checks.rule_checks().items() if other != api)


def _recorded_finding(
    plan: Plan, stage: str, recorder: ScenarioRecorder, case_id: str, check: str, failure: Any
) -> Finding:
    interaction = recorder.interactions.get(case_id)
    if interaction is None:
        return _finding(plan, stage, check, failure.title, failure.message, failure.operation)
    request = interaction.request
    headers = {name: values[0] for name, values in request.headers.items() if values}
    return _finding(
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
    message = f"{event.info.title}: {event.info.message}".strip()
    finding = _finding(plan, "errors", ERROR_CHECK, ERROR_TITLE, message, event.label)
    return StageFinished(
        api=plan.api, stage="errors", operation=event.label, requests=0, findings=(finding,)
    )


def _sampled(plan: Plan, schema: BaseSchema) -> list[StageFinished]:
    """Ask the known orgs ``plan.samples`` times, then send the probes; check every response."""
    results: list[CheckResult] = []

    @schema.hook
    def after_validate(
        ctx: Any, case: Case[Any], response: Response, found: list[CheckResult]
    ) -> None:
        results.extend(found)

    stages = []
    bearer = {"Authorization": f"Bearer {plan.token}"}
    invalid = {"Authorization": f"Bearer usagemock-invalid-{plan.seed}"}
    for path, methods in facts(plan.api).document()["paths"].items():
        if "get" not in methods:
            continue
        operation = schema[path]["GET"]
        by_org = "{org_id}" in path
        if by_org and not plan.org_ids:
            stages.append(
                StageFinished(
                    api=plan.api,
                    stage="samples",
                    operation=operation.label,
                    requests=0,
                    skipped="no known org: pass --org-id with an org the token owns",
                )
            )
        else:
            calls = [
                ({"org_id": org} if by_org else {}, bearer)
                for org in (plan.org_ids if by_org else ("",))
                for _ in range(plan.samples)
            ]
            stages.append(_call_all(plan, "samples", operation, calls, results))
        own = {"org_id": plan.org_ids[0] if plan.org_ids else "org_usagemock_probe"}
        probes: list[tuple[dict[str, str], dict[str, str]]] = [
            (own if by_org else {}, {}),
            (own if by_org else {}, invalid),
        ]
        if by_org:
            probes.append(({"org_id": f"org_usagemock_unknown_{plan.seed}"}, bearer))
            probes += [({"org_id": odd}, bearer) for odd in ODD_ORG_IDS]
        stages.append(_call_all(plan, "probes", operation, probes, results))
    return stages


def _call_all(
    plan: Plan,
    stage: str,
    operation: Any,
    calls: Sequence[tuple[dict[str, str], dict[str, str]]],
    results: list[CheckResult],
) -> StageFinished:
    """Send each (path parameters, headers) call and check its response with every check.

    Samples are also held to the rules across calls: each org's answers, pair by pair.
    """
    counts: Counter[str] = Counter()
    findings = []
    answered = refused = 0
    series: dict[str, list[tuple[Answer, Case[Any], Response]]] = {}
    for parameters, headers in calls:
        case = operation.Case(path_parameters=parameters or None)
        sent = datetime.now(UTC)
        try:
            response = case.call(headers=headers, timeout=plan.request_timeout)
        except Exception as exc:  # a dropped connection or a crash in an in-process app
            message = f"{type(exc).__name__}: {exc}"
            findings.append(_finding(plan, stage, ERROR_CHECK, ERROR_TITLE, message, case))
            continue
        received = datetime.now(UTC)
        answered += 1
        request = response.request
        if wire.refused_by_parser(response.status_code, request.url or "", request.headers.items()):
            refused += 1
            continue
        results.clear()
        # Every failure also lands in ``results``, with the name of the check that found it.
        with contextlib.suppress(FailureGroup):
            case.validate_response(response, headers=headers)
        for result in results:
            if _foreign(plan.api, result.name):
                continue
            counts[result.name] += 1
            if result.status == Status.FAILURE and result.failure is not None:
                failure = result.failure
                findings.append(
                    _finding(
                        plan,
                        stage,
                        result.name,
                        failure.title,
                        failure.message,
                        case,
                        response=response,
                    )
                )
        if stage == "samples":
            findings += _known_org_refused(plan, case, response, counts)
        body = checks.json_object(response)
        if stage == "samples" and response.status_code == 200 and body is not None:
            answer = Answer(body, sent, received)
            series.setdefault(str(parameters.get("org_id", "")), []).append(
                (answer, case, response)
            )
    for answers in series.values():
        findings += _series_findings(plan, stage, answers, counts)
    return StageFinished(
        api=plan.api,
        stage=stage,
        operation=operation.label,
        requests=answered,
        checks=counts,
        findings=tuple(findings),
        refused_by_http=refused,
    )


def _known_org_refused(
    plan: Plan, case: Case[Any], response: Response, counts: Counter[str]
) -> list[Finding]:
    """A sample answered otherwise than 200, as a finding.

    Every status here may be documented (401, 403), so no spec check sees that the token's own
    org was refused; a run whose every sample is refused must not pass. A scenario's promises,
    when given, judge these answers instead (``scenario_expectations``, status included).
    """
    if plan.scenario and plan.expect:
        return []
    counts[sources.KNOWN_ORGS_ANSWER] += 1
    if response.status_code == 200:
        return []
    message = (
        f"{response.status_code} to the run's token for an org it owns; expected 200. "
        "Check the token and --org-id, or why the server refuses them"
    )
    title = f"{checks.STATEMENTS[sources.KNOWN_ORGS_ANSWER]} ({sources.KNOWN_ORGS_ANSWER})"
    return [
        _finding(
            plan, "samples", sources.KNOWN_ORGS_ANSWER, title, message, case, response=response
        )
    ]


def _source(
    api: str, check: str, stage: str, status: int | None, parameters: Mapping[str, Any]
) -> Source:
    """Where a break of ``check`` comes from, given the answer it was found on.

    A few answers are the server's freedom whatever the check: a 404 or 400 to an org id with
    an encoded slash (HTTP's call), a 429, and an undocumented 4xx outside the known orgs'
    samples (asked with a token that owns them, those must answer as documented).
    """
    org = str(parameters.get("org_id", ""))
    if status in (400, 404) and ("/" in org or "%2f" in org.lower()):
        return sources.ENCODED_SLASH
    if status == 429:
        return sources.RATE_LIMITED
    if check == STATUS_CHECK and status is not None and status // 100 == 4 and stage != "samples":
        return sources.UNDOCUMENTED_CLIENT_ERROR
    return sources.source_of(api, check)


def _series_findings(
    plan: Plan,
    stage: str,
    answers: list[tuple[Answer, Case[Any], Response]],
    counts: Counter[str],
) -> list[Finding]:
    """Each consecutive pair of one org's answers, held to every rule across calls."""
    findings = []
    for (earlier, _, first), (later, case, response) in itertools.pairwise(answers):
        for rule in facts(plan.api).series:
            name = checks.rule_check_name(plan.api, rule)
            counts[name] += 1
            broken = rule(earlier, later, plan.clock_skew)
            if not broken:
                continue
            when = f"(asked {earlier.sent.isoformat()}, answered {earlier.received.isoformat()})"
            finding = _finding(
                plan,
                stage,
                name,
                f"{rule.statement} ({name})",
                "\n".join(broken),
                case,
                response=response,
            )
            excerpt = first.content.decode("utf-8", "replace")[:_BODY_EXCERPT]
            earlier_text = f"{first.status_code} {when}: {redact(excerpt, plan.token)}"
            findings.append(dataclasses.replace(finding, earlier=earlier_text))
    return findings


def _finding(
    plan: Plan,
    stage: str,
    check: str,
    title: str,
    message: str,
    where: Case[Any] | str | None,
    *,
    method: str | None = None,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    response: Response | None = None,
) -> Finding:
    """A token-free Finding; request details come from ``response`` when there is one."""
    if response is not None:
        request = response.request
        method, url = request.method or method, request.url or url
        headers = {name: str(value) for name, value in request.headers.items()}
    if isinstance(where, Case):
        operation = where.operation.label
        method = method or where.method
        url = url or plan.target.base_url + where.formatted_path
    else:
        operation = where or "?"
    status = content_type = None
    body = ""
    if response is not None:
        status = response.status_code
        content_type = response.headers.get("content-type", [None])[0]
        body = response.content.decode("utf-8", "replace")[:_BODY_EXCERPT]
    token = plan.token
    parameters = (where.path_parameters or {}) if isinstance(where, Case) else {}
    source = _source(plan.api, check, stage, status, parameters)
    return Finding(
        api=plan.api,
        check=check,
        title=redact(title, token),
        message=redact(message, token),
        stage=stage,
        operation=operation,
        method=method or "GET",
        url=redact(url or "", token),
        status=status,
        content_type=content_type,
        body=redact(body, token),
        curl=curl(method or "GET", url or "", headers or {}, token),
        seed=plan.seed,
        kind=source.kind.value,
        source=source.cite(),
    )
