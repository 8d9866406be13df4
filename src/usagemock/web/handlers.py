"""The operation of each API: authorize, resolve the org's record, apply faults, shape JSON.

Every API has one operation and one handler, built from its definition: the org is the path
parameter its facts name (a token that may not read it gets 403), or else the token's own.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from connexion.context import scope as current_scope
from connexion.exceptions import ProblemException
from starlette.types import Scope

from usagemock.access import AccessPolicy, Principal
from usagemock.apis import definition, violations
from usagemock.domain.faults import Fault
from usagemock.domain.identity import token_org_id
from usagemock.domain.records import OrgRecord
from usagemock.engine import Engine, UnknownScenario
from usagemock.web.auth import mask
from usagemock.web.errors import InjectedFault
from usagemock.web.oas31 import path_argument
from usagemock.web.paths import restore
from usagemock.web.prefer import Preferences, number, parse_prefer
from usagemock.web.requests import note_org

JSON = {"Content-Type": "application/json"}
#: A response body the mock builds (the rules read any JSON object: ``usagemock.rules.Body``).
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class MockContext:
    """What every handler needs: the engine, the access policy and what each API documents."""

    engine: Engine
    policy: AccessPolicy
    statuses: Mapping[str, frozenset[int]]
    """Statuses each API's operation documents (faults may only use these)."""
    examples: Mapping[str, Mapping[str, JsonObject]]
    """Each API's named 200 examples from its spec (for ``Prefer: example=``)."""
    rng: random.Random
    check_rules: bool = False
    """Hold every body to the documented rules before it leaves (on with --validate-responses)."""


def keep_rules(api: str, body: JsonObject) -> JsonObject:
    """``body`` if it keeps every rule ``api`` documents; else a 500 naming what broke."""
    broken = violations(api, body)
    if broken:
        raise ProblemException(
            status=500,
            detail="usagemock broke a documented rule (a bug, "
            "please report it): " + "; ".join(broken),
        )
    return body


def body_now(record: OrgRecord, now: datetime) -> JsonObject:
    """What the org's API answers at ``now``, before any fault."""
    return definition(record.api).answer(record.account, now, record.ingests)


class _Answer:
    """One request's way through preferences and faults to its response."""

    def __init__(self, ctx: MockContext, api: str, scope: Scope) -> None:
        self.ctx, self.api = ctx, api
        # the header values as request.headers.getlist("prefer") gives them (ASGI names arrive
        # in lower case), without building a request object for them on every call
        self.prefs: Preferences = parse_prefer(
            value.decode("latin-1") for name, value in scope["headers"] if name == b"prefer"
        )

    def scenario(self) -> str | None:
        """The scenario asked for on this request, if it exists."""
        name = self.prefs.get("scenario")
        if name is None:
            return None
        try:
            if self.api in self.ctx.engine.scenario(name).sections:
                self.prefs.apply("scenario")
                return name
            self.prefs.ignore("scenario", f"not a {self.api} scenario")
        except UnknownScenario:
            self.prefs.ignore("scenario", "no such scenario; GET /_usagemock/scenarios lists them")
        return None

    def fail(self, status: int, detail: str) -> ProblemException:
        """An error response that still carries the preference headers."""
        return ProblemException(status=status, detail=detail, headers=self.prefs.headers())

    def inject(self, status: int, detail: str) -> InjectedFault:
        """An error response asked for on purpose (fault, scenario, ``Prefer: code``)."""
        return InjectedFault(status=status, detail=detail, headers=self.prefs.headers())

    async def deliver(
        self, record: OrgRecord, now: datetime
    ) -> tuple[JsonObject, int, dict[str, str]]:
        """Apply latency and error faults (request's, then org's), then the body at ``now``."""
        fault = record.fault
        latency = self.prefs.get("latency")
        if latency is not None:
            milliseconds = number(latency, 60_000)
            if milliseconds is not None:
                fault = replace(fault or Fault(), latency_ms=milliseconds, jitter_ms=0)
                self.prefs.apply("latency")
            else:
                self.prefs.ignore("latency", "give milliseconds, 0 to 60000")
        if fault is not None and (fault.latency_ms or fault.jitter_ms):
            await asyncio.sleep(fault.delay_seconds(self.ctx.rng))
        code = self._asked_code()
        if code is not None and code != 200:
            raise self.inject(code, f"Injected by usagemock: Prefer code={code}.")
        if code is None and fault is not None and fault.fails(self.ctx.rng):
            why = f"scenario {record.scenario}" if record.scenario else "a fault set on this org"
            raise self.inject(fault.status or 500, f"Injected by usagemock ({why}).")
        body = self._body(record, now)
        if self.ctx.check_rules:
            keep_rules(self.api, body)
        return body, 200, {**JSON, **self.prefs.headers()}

    def _asked_code(self) -> int | None:
        code = self.prefs.get("code")
        if code is None:
            return None
        documented = self.ctx.statuses[self.api]
        status = number(code, 599)
        if status is not None and status in documented:
            self.prefs.apply("code")
            return status
        listed = ", ".join(str(s) for s in sorted(documented))
        self.prefs.ignore("code", f"not a documented status; use one of {listed}")
        return None

    def _body(self, record: OrgRecord, now: datetime) -> JsonObject:
        examples = self.ctx.examples[self.api]
        name = self.prefs.get("example")
        if name is None and self.prefs.get("dynamic") == "false":
            name = next(iter(examples))
            self.prefs.apply("dynamic")
        elif self.prefs.get("dynamic") is not None:
            self.prefs.apply("dynamic")  # dynamic=true is what the mock always does
        if name is not None:
            if name in examples:
                if "example" in self.prefs.asked:
                    self.prefs.apply("example")
                return dict(examples[name])
            self.prefs.ignore("example", f"no such example; the spec has {', '.join(examples)}")
        return body_now(record, now)


class _NoUndeclaredQueryErrors(logging.Filter):
    """Drops connexion's ERROR line for each query parameter a spec does not declare.

    connexion logs "Function argument 'x' ... not defined in specification" on every request
    with one, when the handler takes ``**parameters`` as ours do (the admin API's too). The
    parameter is ignored, as a server ignores a query parameter it does not know: nothing failed,
    and the access log shows the query string.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Function argument ")


_NO_UNDECLARED_QUERY_ERRORS = _NoUndeclaredQueryErrors()


def operations(api: str, ctx: MockContext) -> dict[str, Callable[..., Any]]:
    """The handler of ``api``'s operation, by its operationId."""
    logging.getLogger("connexion.decorators.parameter").addFilter(_NO_UNDECLARED_QUERY_ERRORS)
    org_param = definition(api).facts.org_param
    org_argument = None if org_param is None else path_argument(org_param)

    # connexion hands a handler with **parameters every argument it has (path, query,
    # security context); only the org's path parameter matters here.
    async def handle(token_info: dict[str, Any], **parameters: Any) -> Any:
        principal: Principal = token_info["principal"]
        scope = current_scope._get_current_object()  # the proxy looks it up on every use
        answer = _Answer(ctx, api, scope)
        if org_argument is None:
            org_id = _token_org(api, principal, answer, ctx.engine.seed)
        else:
            org_id = restore(parameters[org_argument], scope)
            if not principal.may_read(org_id):
                raise answer.fail(
                    403,
                    f"Token {mask(principal.token)} may not read org {org_id!r}; "
                    "use a token whose fixtures entry lists it under can_read.",
                )
        note_org(scope, org_id)
        record, now = ctx.engine.answering(
            api,
            org_id,
            scenario=answer.scenario(),
            token_scenario=principal.scenario,
        )
        return await answer.deliver(record, now)

    return {definition(api).operation_id: handle}


def _token_org(api: str, principal: Principal, answer: _Answer, seed: int) -> str:
    """The org of an API whose requests name none: the token's (fixtures file, or derived)."""
    if principal.org_from_token:
        return token_org_id(api, principal.token, seed)
    if principal.org_id is None:
        raise answer.fail(
            400,
            f"Organization context could not be resolved: token "
            f"{mask(principal.token)} belongs to no organization in the "
            "fixtures file.",
        )
    return principal.org_id
