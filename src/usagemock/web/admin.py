"""The admin API (``/_usagemock``, specs/admin.yaml): scenarios, org state, clock, faults."""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from connexion import NoContent
from connexion.exceptions import ProblemException
from starlette.types import ASGIApp, Receive, Scope, Send

from usagemock.domain.clock import ClockState, parse_step
from usagemock.domain.faults import Fault
from usagemock.domain.periods import isoformat
from usagemock.domain.records import OrgRecord, from_json, to_json
from usagemock.engine import UnknownScenario
from usagemock.errors import FixtureError
from usagemock.web.handlers import JSON, MockContext, body_now

PREFIX = "/_usagemock"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def admin_operations(ctx: MockContext) -> dict[str, Callable[..., Any]]:
    """The admin API's handlers by operationId."""
    engine = ctx.engine

    def clock_view(clock: ClockState) -> dict[str, Any]:
        return {
            "now": isoformat(engine.now()),
            "frozen": clock.frozen,
            "offset_seconds": 0.0 if clock.frozen else clock.offset.total_seconds(),
        }

    def org_view(record: OrgRecord, changed: bool) -> dict[str, Any]:
        return {
            "record": to_json(record),
            "changed": changed,
            "now": isoformat(engine.now()),
            "response": body_now(record, engine),
        }

    def current(api: str, org_id: str) -> OrgRecord:
        return engine.record(api, org_id, name=ctx.policy.org_name(org_id))

    def check_fault(api: str, fault: Fault | None) -> None:
        errors = sorted(s for s in ctx.statuses[api] if s >= 400)
        if fault is not None and fault.status is not None and fault.status not in errors:
            raise ProblemException(
                status=400,
                title="Bad Request",
                detail=(
                    f"Status {fault.status} is not documented by the {api} API, so a client could "
                    f"not expect it; use one of {', '.join(map(str, errors))}."
                ),
            )

    async def list_scenarios() -> Any:
        return [
            {"name": s.name, "description": s.description, "apis": list(s.apis)}
            for s in sorted(engine.scenarios.values(), key=lambda s: s.name)
        ]

    async def get_scenario(name: str) -> Any:
        try:
            scenario = engine.scenario(name)
        except UnknownScenario as exc:
            raise ProblemException(status=404, title="Not Found", detail=str(exc)) from None
        return {
            "name": scenario.name,
            "description": scenario.description,
            "apis": list(scenario.apis),
            "sections": dict(scenario.sections),
        }

    async def get_clock() -> Any:
        return clock_view(engine.clock())

    async def set_clock(body: dict[str, Any]) -> Any:
        if "now" in body:
            return clock_view(engine.set_now(_instant(body["now"]), frozen=body.get("frozen")))
        return clock_view(engine.freeze(body["frozen"]))

    async def advance_clock(body: dict[str, Any]) -> Any:
        try:
            step = parse_step(body["by"])
        except ValueError as exc:
            raise ProblemException(status=400, title="Bad Request", detail=str(exc)) from None
        return clock_view(engine.advance(step))

    async def list_orgs() -> Any:
        return [{"api": api, "org_id": org} for api, org in engine.store.orgs()]

    async def reset_all() -> Any:
        engine.reset_all()
        return NoContent, 204

    async def get_org(api: str, org_id: str) -> Any:
        return org_view(current(api, org_id), engine.store.get(api, org_id) is not None)

    async def replace_org(api: str, org_id: str, body: dict[str, Any]) -> Any:
        if (body["api"], body["org_id"]) != (api, org_id):
            raise ProblemException(
                status=400,
                title="Bad Request",
                detail=(
                    f"The record is for {body['api']}/{body['org_id']} but the path names "
                    f"{api}/{org_id}; they must agree."
                ),
            )
        record = from_json(body)
        check_fault(api, record.fault)
        return org_view(engine.replace_record(record), True)

    async def reset_org(api: str, org_id: str) -> Any:
        engine.reset(api, org_id)
        return NoContent, 204

    async def apply_scenario(api: str, org_id: str, body: dict[str, Any]) -> Any:
        try:
            record = engine.apply_scenario(api, org_id, body["name"])
        except UnknownScenario as exc:
            raise ProblemException(status=404, title="Not Found", detail=str(exc)) from None
        except FixtureError as exc:
            raise ProblemException(status=400, title="Bad Request", detail=str(exc)) from None
        return org_view(record, True)

    async def ingest(api: str, org_id: str, body: dict[str, Any]) -> Any:
        at = _instant(body["at"]) if "at" in body else None
        return org_view(engine.ingest(api, org_id, body["amount"], at), True)

    async def set_fault(api: str, org_id: str, body: dict[str, Any]) -> Any:
        fault = Fault(**body)
        check_fault(api, fault)
        return org_view(engine.set_fault(api, org_id, fault), True)

    async def clear_fault(api: str, org_id: str) -> Any:
        return org_view(engine.set_fault(api, org_id, None), True)

    operations: dict[str, Callable[..., Any]] = {
        "listScenarios": list_scenarios,
        "getScenario": get_scenario,
        "getClock": get_clock,
        "setClock": set_clock,
        "advanceClock": advance_clock,
        "listOrgs": list_orgs,
        "resetAll": reset_all,
        "getOrg": get_org,
        "replaceOrg": replace_org,
        "resetOrg": reset_org,
        "applyScenario": apply_scenario,
        "ingest": ingest,
        "setFault": set_fault,
        "clearFault": clear_fault,
    }
    return {name: _as_json(handler) for name, handler in operations.items()}


def _as_json(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a handler's body as JSON.

    The operations also declare problem+json (for errors), and connexion refuses to guess.
    """

    @functools.wraps(handler)  # connexion reads the handler's parameters through this
    async def answer(*args: Any, **kwargs: Any) -> Any:
        result = await handler(*args, **kwargs)
        return result if isinstance(result, tuple) else (result, 200, JSON)

    return answer


class AdminGate:
    """Who may use the admin API: holders of the admin token, or anyone on loopback without one.

    The docs (``ui/``, ``openapi.json``) stay readable, so a locked API still explains itself.
    """

    def __init__(self, app: ASGIApp, token: str | None, *, loopback: bool) -> None:
        self.app, self.token, self.loopback = app, token, loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse (401/403, problem+json) or pass the request on."""
        path = scope.get("path", "")
        docs = path.startswith(f"{PREFIX}/ui") or path == f"{PREFIX}/openapi.json"
        refusal = None if scope["type"] != "http" or docs else self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, detail = refusal
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Unauthorized" if status == 401 else "Forbidden",
                "status": status,
                "detail": detail,
            }
        ).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        if self.token is None:
            if self.loopback:
                return None
            return 403, (
                "The admin API is locked: the server binds beyond loopback without "
                "an admin token. Restart it with --admin-token to use it remotely."
            )
        sent = dict(scope.get("headers", [])).get(b"authorization", b"")
        expected = f"Bearer {self.token}".encode()
        if hmac.compare_digest(sent, expected):
            return None
        return 401, "The admin API needs 'Authorization: Bearer <the --admin-token value>'."
