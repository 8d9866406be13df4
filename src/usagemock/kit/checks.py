"""Every fact the kit checks, each registered as a schemathesis check.

The rules come from :mod:`usagemock.rules`, written once for the mock and the kit: this module
only wraps each one as a check (body rules as functions, moment rules as classes that take the
clock skew). Two auth checks add what the docs say about tokens, and ``mock_spec_conformance``
holds a response to the mock's full spec, where every difference is a choice the vendor left
open (a note). Checks are registered process-wide (that is how schemathesis finds them), so
each one first makes sure the response is one of ours: a rule check acts only on its API's
spec, an auth check only when the kit's run configured it with a token. Where each check comes
from is in :mod:`usagemock.kit.sources`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import schemathesis
from schemathesis import BaseSchema, Case, CheckContext, CheckFunction, GenerationMode, Response
from schemathesis.core.failures import Failure, Severity
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from usagemock.apis import facts, names
from usagemock.kit.expectations import promised_status, unmet
from usagemock.kit.sources import (
    CREDENTIAL_REQUIRED,
    KNOWN_ORGS_ANSWER,
    MOCK_SPEC,
    OWNED_ORGS_ONLY,
    SCENARIO_EXPECTATIONS,
)
from usagemock.rules import Answer, MomentRule, Rule, SeriesRule
from usagemock.specs import documented_statuses, marked, vendor_view


class ContractBroken(Failure):
    """A response breaks a fact the API documents: a prose rule, or what it says about tokens."""

    code: ClassVar[str] = "UM001"
    kind_title: ClassVar[str] = "Documented rule broken"

    __slots__ = ("check",)

    def __init__(self, *, check: str, operation: str, title: str, message: str) -> None:
        super().__init__(operation=operation, title=title, message=message, severity=Severity.HIGH)
        self.check = check

    @property
    def _unique_key(self) -> str:
        # schemathesis keeps one failure per class and key; one per check keeps rules apart.
        return self.check


def _titles() -> Mapping[str, str]:
    return {facts(api).document()["info"]["title"]: api for api in names()}


def api_of(case: Case[Any]) -> str | None:
    """Which of our APIs ``case`` belongs to, by its spec's title (None for any other spec)."""
    info = case.operation.schema.raw_schema.get("info", {})
    title = info.get("title") if isinstance(info, dict) else None
    return _titles().get(title) if isinstance(title, str) else None


def sent_authorization(response: Response) -> str | None:
    """The Authorization header the request that got ``response`` really carried."""
    value = response.request.headers.get("Authorization")
    return None if value is None else str(value)


def json_object(response: Response) -> dict[str, Any] | None:
    """The response body as a JSON object, or None (the content-type and schema checks judge it)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def rule_check_name(api: str, rule: Rule | MomentRule | SeriesRule) -> str:
    """The check name of one rule: ``<api>_<rule name>``."""
    return f"{api}_{rule.name}"


def _rule_check(api: str, rule: Rule) -> CheckFunction:
    name = rule_check_name(api, rule)

    def check(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if response.status_code != 200 or api_of(case) != api:
            return None
        body = json_object(response)
        if body is None:
            return None
        _raise(name, case, rule.statement, rule(body))
        return True

    check.__name__ = check.__qualname__ = name
    check.__doc__ = f"{api}: {rule.statement}."
    return check


def _raise(name: str, case: Case[Any], statement: str, broken: list[str]) -> None:
    if broken:
        raise ContractBroken(
            check=name,
            operation=case.operation.label,
            title=f"{statement} ({name})",
            message="\n".join(broken),
        )


class MomentCheck:
    """A moment rule as a check: a 200 against the moment it was answered, clocks ``skew`` apart.

    Off unless a kit run configures it: other schemathesis runs in the same process (the mock's
    own tests, on a moved clock) answer for another moment by design.
    """

    api: ClassVar[str]
    rule: ClassVar[MomentRule]

    def __init__(self, skew: float | None = None) -> None:
        self.skew = None if skew is None else timedelta(seconds=skew)

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        """Fail when the body breaks the rule at the moment it was asked."""
        if self.skew is None or response.status_code != 200 or api_of(case) != self.api:
            return None
        body = json_object(response)
        if body is None:
            return None
        # The check runs as the response arrives: now is when it was received.
        received = datetime.now(UTC)
        answer = Answer(body, received - timedelta(seconds=response.elapsed), received)
        _raise(type(self).__name__, case, self.rule.statement, self.rule(answer, self.skew))
        return True


#: What each check states, for reports (schemathesis' own checks by their names); each API's
#: rules are added when :func:`rule_checks` registers them.
STATEMENTS: dict[str, str] = {
    CREDENTIAL_REQUIRED: "no token or an invalid token is refused (401, or a documented 403)",
    OWNED_ORGS_ONLY: "a token never gets 200 for an org it does not own",
    SCENARIO_EXPECTATIONS: "a server running a scenario answers as the scenario promises",
    KNOWN_ORGS_ANSWER: "the orgs the token owns answer it with 200",
    MOCK_SPEC: "where the vendor leaves a choice open, the server chose as the mock did",
}
_RULE_CHECKS: dict[str, tuple[str, ...]] = {}
_MOMENT_CHECKS: list[str] = []


def rule_checks() -> Mapping[str, tuple[str, ...]]:
    """Each registered API's body and moment rule checks, by API.

    schemathesis checks are process-wide: an API's are registered the first time this sees
    it (at import for the bundled APIs, at a run's start for one registered later).
    """
    for api in names():
        if api not in _RULE_CHECKS:
            _RULE_CHECKS[api] = _register_rules(api)
    return _RULE_CHECKS


def _register_rules(api: str) -> tuple[str, ...]:
    api_facts = facts(api)
    for rule in api_facts.rules:
        schemathesis.check(_rule_check(api, rule))
    for moment in api_facts.moments:
        name = rule_check_name(api, moment)
        cls = type(name, (MomentCheck,), {"api": api, "rule": moment, "__doc__": moment.statement})
        cls.__qualname__ = name
        schemathesis.check(cls)
        _MOMENT_CHECKS.append(name)
    for any_rule in api_facts.every_rule():
        STATEMENTS[rule_check_name(api, any_rule)] = any_rule.statement
    one_answer: list[Rule | MomentRule] = [*api_facts.rules, *api_facts.moments]
    return tuple(rule_check_name(api, rule) for rule in one_answer)


@functools.cache
def _mock_schema(api: str) -> BaseSchema:
    """The mock's full spec of ``api`` (every assumption kept), to compare answers with."""
    return schemathesis.openapi.from_dict(copy.deepcopy(dict(facts(api).document())))


_CONFORMANCE = (status_code_conformance, content_type_conformance, response_schema_conformance)


class MockSpecConformance:
    """Note where a response the vendor-only contract accepts differs from the mock's choices.

    Off unless a kit run configures it (judging by the vendor-only view; elsewhere the mock's
    own spec is the one judged, and there is nothing to compare).
    """

    def __init__(self, active: bool = False) -> None:
        self.active = active

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        """Raise a note listing each difference and the assumption behind it."""
        api = api_of(case)
        if not self.active or api is None:
            return None
        return _mock_spec_differences(api, ctx, response, case)


def _mock_spec_differences(
    api: str, ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    operation = _mock_schema(api)[case.operation.path][case.operation.method]
    mock_case = operation.Case(
        method=case.method,
        path_parameters=case.path_parameters,
        headers=case.headers,
        query=case.query,
        _meta=case.meta,
    )
    differences = []
    for check in _CONFORMANCE:
        with contextlib.suppress(Failure):
            check(ctx, response, case)
            try:
                check(ctx, response, mock_case)
            except Failure as failure:
                differences.append(f"{failure.title}: {' '.join(failure.message.split())}")
    if not differences:
        return True
    content_type = response.headers.get("content-type", ["(none)"])[0]
    lines = _assumptions(api, case, response)
    lines.append(f"This server sends {response.status_code} {content_type}; the mock's spec says:")
    lines += [f"  {difference}" for difference in differences]
    raise ContractBroken(
        check=MOCK_SPEC,
        operation=case.operation.label,
        title=f"a choice the vendor leaves open, made otherwise than the mock ({MOCK_SPEC})",
        message="\n".join(lines),
    )


def _assumptions(api: str, case: Case[Any], response: Response) -> list[str]:
    """The mock's assumptions bearing on this response: its status's, else the schemas'."""
    path = case.operation.path.replace("~", "~0").replace("/", "~1")
    status = f"/paths/{path}/{case.operation.method.lower()}/responses/{response.status_code}"
    marks = marked(facts(api).document())
    bearing = [m for m in marks if m.pointer.startswith(status)] or [
        m for m in marks if m.pointer.startswith("/components/")
    ]
    return [f"Assumed by the mock: {m.why} (#{m.pointer}: {m.keyword})" for m in bearing]


@functools.cache
def refusal_statuses(api: str) -> frozenset[int]:
    """The statuses ``api``'s vendor-only contract allows for a request without a valid token."""
    if api not in names():
        return frozenset()
    return documented_statuses(vendor_view(facts(api).document())) & {401, 403}


class CredentialRequired:
    """No token or an invalid one gets a refusal the vendor allows: never 2xx, nor 400 or another.

    The refusals are the vendor-only contract's 401 and 403 (a documented 401, or one inferred
    from bearer auth, and a documented 403). Any Authorization header other than
    ``Bearer <the kit's token>`` is missing or invalid. Other statuses (404, 405, 5xx...) belong
    to the conformance and server-error checks. Kind and source: per API, in its facts
    (:mod:`usagemock.kit.sources`).
    """

    def __init__(self, token: str | None = None) -> None:
        self.token = token

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        """Fail when a request without the kit's token got an answer meant for a valid one."""
        if not self.token or case.method.upper() != "GET" or api_of(case) is None:
            return None
        sent = sent_authorization(response)
        if sent == f"Bearer {self.token}":
            return None
        status = response.status_code
        refusals = refusal_statuses(api_of(case) or "")
        if status < 300 or (status in (400, 401, 403) and status not in refusals):
            what = "no Authorization header" if sent is None else "an invalid bearer token"
            allowed = " or ".join(map(str, sorted(refusals)))
            raise ContractBroken(
                check=CREDENTIAL_REQUIRED,
                operation=case.operation.label,
                title=f"a missing or invalid token gets {allowed} ({CREDENTIAL_REQUIRED})",
                message=f"A request with {what} got {status}, not {allowed}.",
            )
        return True


def asked_org(api: str, case: Case[Any]) -> str | None:
    """The org ``case`` names in its path, for an API whose paths name one (else None)."""
    param = facts(api).org_param
    return None if param is None else str((case.path_parameters or {}).get(param))


class OwnedOrgsOnly:
    """Where a request names its org: a token gets 200 only for those it owns (``--org-id``)."""

    def __init__(self, token: str | None = None, owned: list[str] | None = None) -> None:
        self.token = token
        self.owned = frozenset(owned or ())

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        """Fail on a 200 for an org id outside the owned list, asked with the kit's token."""
        api = api_of(case)
        if not (self.token and self.owned) or api is None:
            return None
        if response.status_code != 200 or sent_authorization(response) != f"Bearer {self.token}":
            return None
        org_id = asked_org(api, case)
        if org_id is None:  # the org comes from the token: nothing to check
            return None
        if org_id not in self.owned:
            raise ContractBroken(
                check=OWNED_ORGS_ONLY,
                operation=case.operation.label,
                title=f"a token never gets 200 for an org it does not own ({OWNED_ORGS_ONLY})",
                message=f"The token got 200 for org {org_id!r}; it owns only "
                f"{', '.join(sorted(self.owned))}.",
            )
        return True


class ScenarioExpectations:
    """A server running a scenario answers as the scenario promises (its ``expect:`` block)."""

    def __init__(
        self,
        scenario: str | None = None,
        expect: dict[str, Any] | None = None,
        token: str | None = None,
        owned: list[str] | None = None,
    ) -> None:
        self.scenario, self.expect = scenario, expect or {}
        self.token, self.owned = token, frozenset(owned or ())

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        """Fail when an answer to the kit's token for a known org breaks the scenario's promise."""
        api = api_of(case)
        if not (self.scenario and self.expect and api and self.token):
            return None
        if sent_authorization(response) != f"Bearer {self.token}":
            return None
        if str(response.request.method).upper() != case.operation.method.upper():
            return None  # an unsupported-method probe: that check judges it
        meta = case.meta
        if meta is not None and meta.generation.mode == GenerationMode.NEGATIVE:
            return None  # a deliberately invalid request promises nothing about the scenario
        org_id = asked_org(api, case)
        if org_id is not None and org_id not in self.owned:
            return None
        lines = []
        status = promised_status(self.expect)
        if response.status_code != status:
            lines.append(f"status is {response.status_code}, expected {status}")
        elif status == 200:
            body = json_object(response)
            if body is None:
                return None
            lines = unmet(self.expect, body)
        _raise(
            SCENARIO_EXPECTATIONS, case, f"scenario {self.scenario} answers as it promises", lines
        )
        return True


def _register(name: str, cls: type[Any]) -> None:
    # A class-based check is named after its class; these names match the rule checks' style.
    cls.__name__ = cls.__qualname__ = name
    schemathesis.check(cls)


_register(CREDENTIAL_REQUIRED, CredentialRequired)
_register(OWNED_ORGS_ONLY, OwnedOrgsOnly)
_register(SCENARIO_EXPECTATIONS, ScenarioExpectations)
_register(MOCK_SPEC, MockSpecConformance)


def auth_check_config(token: str, owned: tuple[str, ...]) -> dict[str, Any]:
    """The ``checks`` config entries that turn the auth checks on for one run."""
    return {
        CREDENTIAL_REQUIRED: {"token": token},
        OWNED_ORGS_ONLY: {"token": token, "owned": list(owned)},
    }


def judging_check_config(skew: timedelta) -> dict[str, Any]:
    """The ``checks`` config entries that turn on the moment rules and the mock-spec notes."""
    rule_checks()  # an API registered since the kit loaded gets its checks now
    return {
        **{name: {"skew": skew.total_seconds()} for name in _MOMENT_CHECKS},
        MOCK_SPEC: {"active": True},
    }


def expectation_check_config(
    scenario: str | None, expect: Mapping[str, Any] | None, token: str, owned: tuple[str, ...]
) -> dict[str, Any]:
    """The ``checks`` config entry that holds a run to a scenario's promises (none: off)."""
    if not (scenario and expect):
        return {SCENARIO_EXPECTATIONS: {"enabled": False}}  # not listed as passed when unused
    return {
        SCENARIO_EXPECTATIONS: {
            "scenario": scenario,
            "expect": dict(expect),
            "token": token,
            "owned": list(owned),
        }
    }


rule_checks()  # the bundled APIs' rules, registered as the kit loads
