"""The samples and probes: fixed requests the kit sends itself, each response checked.

Each known org is asked ``samples`` times (real data moves between calls, and a bug that shows
on one call in five must not hide behind a clean retry), then a few probes every server must
answer within the spec: no token, an invalid token, odd and unknown org ids. The samples of one
org are also held, pair by pair, to the rules across calls (each API's ``ApiFacts.series``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from schemathesis import BaseSchema, Case, CheckResult, Response
from schemathesis.errors import FailureGroup

from usagemock.apis import facts
from usagemock.kit import checks, sources, wire
from usagemock.kit.events import Finding, StageFinished, redact
from usagemock.kit.findings import BODY_EXCERPT, ERROR_CHECK, ERROR_TITLE, finding, tally
from usagemock.kit.plan import Plan
from usagemock.rules import Answer

#: Org ids no server should trip over: non-ASCII, very long, an encoded slash, spaces.
ODD_ORG_IDS = ("org_ünïcødé_組織", "o" * 1024, "org%2Fslash", "org with spaces")

Call = tuple[dict[str, str], dict[str, str]]
"""One request to send: its path parameters and its headers."""


def sampled(plan: Plan, schema: BaseSchema) -> list[StageFinished]:
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
    org_param = facts(plan.api).org_param or ""
    for path, methods in facts(plan.api).document()["paths"].items():
        if "get" not in methods:
            continue
        operation = schema[path]["GET"]
        by_org = bool(org_param) and f"{{{org_param}}}" in path
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
                ({org_param: org} if by_org else {}, bearer)
                for org in (plan.org_ids if by_org else ("",))
                for _ in range(plan.samples)
            ]
            stages.append(_call_all(plan, "samples", operation, calls, results))
        own = {org_param: plan.org_ids[0] if plan.org_ids else "org_usagemock_probe"}
        probes: list[Call] = [
            (own if by_org else {}, {}),
            (own if by_org else {}, invalid),
        ]
        if by_org:
            probes.append(({org_param: f"org_usagemock_unknown_{plan.seed}"}, bearer))
            probes += [({org_param: odd}, bearer) for odd in ODD_ORG_IDS]
        stages.append(_call_all(plan, "probes", operation, probes, results))
    return stages


def _call_all(
    plan: Plan,
    stage: str,
    operation: Any,
    calls: Sequence[Call],
    results: list[CheckResult],
) -> StageFinished:
    """Send each (path parameters, headers) call and check its response with every check.

    Samples are also held to the rules across calls: each org's answers, pair by pair.
    """
    counts: Counter[str] = Counter()
    findings = []
    answered = refused = 0
    # one org's answers: a call's path parameters (the org's, or none) say which org it asked
    series: dict[tuple[tuple[str, str], ...], list[tuple[Answer, Case[Any], Response]]] = {}
    for parameters, headers in calls:
        case = operation.Case(path_parameters=parameters or None)
        sent = datetime.now(UTC)
        try:
            response = case.call(headers=headers, timeout=plan.request_timeout)
        except Exception as exc:  # a dropped connection or a crash in an in-process app
            message = f"{type(exc).__name__}: {exc}"
            findings.append(finding(plan, stage, ERROR_CHECK, ERROR_TITLE, message, case))
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
        tallied = ((result.name, result.status, result.failure) for result in results)
        for check, failure in tally(plan.api, tallied, counts):
            findings.append(
                finding(plan, stage, check, failure.title, failure.message, case, response=response)
            )
        if stage == "samples":
            findings += known_org_refused(plan, case, response, counts)
        body = checks.json_object(response)
        if stage == "samples" and response.status_code == 200 and body is not None:
            answer = Answer(body, sent, received)
            series.setdefault(tuple(sorted(parameters.items())), []).append(
                (answer, case, response)
            )
    for answers in series.values():
        findings += series_findings(plan, stage, answers, counts)
    return StageFinished(
        api=plan.api,
        stage=stage,
        operation=operation.label,
        requests=answered,
        checks=counts,
        findings=tuple(findings),
        refused_by_http=refused,
    )


def known_org_refused(
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
        finding(plan, "samples", sources.KNOWN_ORGS_ANSWER, title, message, case, response=response)
    ]


def series_findings(
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
            found = finding(
                plan,
                stage,
                name,
                f"{rule.statement} ({name})",
                "\n".join(broken),
                case,
                response=response,
            )
            excerpt = first.content.decode("utf-8", "replace")[:BODY_EXCERPT]
            earlier_text = f"{first.status_code} {when}: {redact(excerpt, plan.token)}"
            findings.append(dataclasses.replace(found, earlier=earlier_text))
    return findings
