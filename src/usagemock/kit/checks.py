"""Every documented fact the kit checks, each registered as a schemathesis check.

The rules come from :mod:`usagemock.rules`, written once for the mock and the kit: this module
only wraps each one as a check. Two auth checks add what the docs say about tokens. Checks are
registered process-wide (that is how schemathesis finds them), so each one first makes sure the
response is one of ours: a rule check acts only on its API's spec, an auth check only when the
kit's run configured it with a token.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import schemathesis
from schemathesis import Case, CheckContext, CheckFunction, GenerationMode, Response
from schemathesis.core.failures import Failure, Severity

from usagemock.kit.expectations import STATUS, unmet
from usagemock.rules import RULES, Rule
from usagemock.specs import API_NAMES, load_bundled

#: Names the kit registers its auth checks under (class-based checks take their config by name).
CREDENTIAL_REQUIRED = "credential_required"
OWNED_ORGS_ONLY = "owned_orgs_only"
SCENARIO_EXPECTATIONS = "scenario_expectations"


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


@functools.cache
def _titles() -> Mapping[str, str]:
    return {load_bundled(api)["info"]["title"]: api for api in API_NAMES}


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


def rule_check_name(api: str, rule: Rule) -> str:
    """The check name of one documented rule, e.g. ``kenbun_overage_flag``."""
    return f"{api}_{rule.name}"


def _rule_check(api: str, rule: Rule) -> CheckFunction:
    name = rule_check_name(api, rule)

    def check(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if response.status_code != 200 or api_of(case) != api:
            return None
        body = json_object(response)
        if body is None:
            return None
        broken = rule(body)
        if broken:
            raise ContractBroken(
                check=name,
                operation=case.operation.label,
                title=f"{rule.statement} ({name})",
                message="\n".join(broken),
            )
        return True

    check.__name__ = check.__qualname__ = name
    check.__doc__ = f"{api}: {rule.statement}."
    return check


RULE_CHECKS: Mapping[str, tuple[str, ...]] = {
    api: tuple(rule_check_name(api, rule) for rule in rules) for api, rules in RULES.items()
}
for _api, _rules in RULES.items():
    for _rule in _rules:
        schemathesis.check(_rule_check(_api, _rule))


class CredentialRequired:
    """No token or an invalid one gets 401: never 200, nor a status for a token accepted (400, 403).

    Any Authorization header other than ``Bearer <the kit's token>`` is missing or invalid.
    Other statuses (404, 405, 5xx...) belong to the conformance and server-error checks.
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
        if status < 300 or status in (400, 403):
            what = "no Authorization header" if sent is None else "an invalid bearer token"
            raise ContractBroken(
                check=CREDENTIAL_REQUIRED,
                operation=case.operation.label,
                title=f"a missing or invalid token gets 401 ({CREDENTIAL_REQUIRED})",
                message=f"A request with {what} got {status}, not 401.",
            )
        return True


class OwnedOrgsOnly:
    """Timbal: a token gets 200 only for the orgs it owns (the ``--org-id`` list)."""

    def __init__(self, token: str | None = None, owned: list[str] | None = None) -> None:
        self.token = token
        self.owned = frozenset(owned or ())

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        """Fail on a 200 for an org id outside the owned list, asked with the kit's token."""
        if not (self.token and self.owned) or api_of(case) != "timbal":
            return None
        if response.status_code != 200 or sent_authorization(response) != f"Bearer {self.token}":
            return None
        org_id = str((case.path_parameters or {}).get("org_id"))
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
        if api == "timbal" and str((case.path_parameters or {}).get("org_id")) not in self.owned:
            return None
        lines = []
        status = self.expect.get(STATUS, 200)
        if response.status_code != status:
            lines.append(f"status is {response.status_code}, expected {status}")
        elif status == 200:
            body = json_object(response)
            if body is None:
                return None
            lines = unmet(self.expect, body)
        if lines:
            raise ContractBroken(
                check=SCENARIO_EXPECTATIONS,
                operation=case.operation.label,
                title=f"scenario {self.scenario} answers as it promises ({SCENARIO_EXPECTATIONS})",
                message="\n".join(lines),
            )
        return True


def _register(name: str, cls: type[Any]) -> None:
    # A class-based check is named after its class; these names match the rule checks' style.
    cls.__name__ = cls.__qualname__ = name
    schemathesis.check(cls)


_register(CREDENTIAL_REQUIRED, CredentialRequired)
_register(OWNED_ORGS_ONLY, OwnedOrgsOnly)
_register(SCENARIO_EXPECTATIONS, ScenarioExpectations)


def auth_check_config(token: str, owned: tuple[str, ...]) -> dict[str, Any]:
    """The ``checks`` config entries that turn the auth checks on for one run."""
    return {
        CREDENTIAL_REQUIRED: {"token": token},
        OWNED_ORGS_ONLY: {"token": token, "owned": list(owned)},
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


#: What each check states, for reports (schemathesis' own checks by their names).
STATEMENTS: Mapping[str, str] = {
    **{rule_check_name(api, r): r.statement for api, rules in RULES.items() for r in rules},
    CREDENTIAL_REQUIRED: "no token or an invalid token gets 401",
    OWNED_ORGS_ONLY: "a token never gets 200 for an org it does not own",
    SCENARIO_EXPECTATIONS: "a server running a scenario answers as the scenario promises",
}
