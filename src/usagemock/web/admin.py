"""The admin API (``/_usagemock``, specs/admin.yaml): scenarios, org state, clock, faults."""

from __future__ import annotations

import functools
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from connexion import NoContent
from connexion.exceptions import ProblemException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usagemock.domain.clock import (
    MAX_STEP_YEARS,
    ClockState,
    calendar_moment,
    parse_step,
)
from usagemock.domain.faults import Fault
from usagemock.domain.periods import isoformat
from usagemock.domain.records import MAX_INGESTED, OrgRecord, from_json, to_json
from usagemock.engine import StateConflict, UnknownScenario
from usagemock.errors import FixtureError
from usagemock.specs import load_bundled
from usagemock.web.auth import NotOneCredential, challenge, credentials
from usagemock.web.charts import chart_json
from usagemock.web.errors import kenbun_error, send_error
from usagemock.web.handlers import JSON, MockContext, body_now
from usagemock.web.paths import restore

PREFIX = "/_usagemock"
PANEL = f"{PREFIX}/panel"

_RECORD_MOMENTS = (("anchor",), ("applied_at",), ("organic", "since"), ("trial", "ends_at"))


def _bad_request(detail: str) -> ProblemException:
    return ProblemException(status=400, title="Bad Request", detail=detail)


def _conflict(detail: str) -> ProblemException:
    """A valid request the mock's state cannot take.

    RFC 9110 names 409 for a PUT inconsistent with its target, or a change that conflicts with
    the resource's current state.
    """
    return ProblemException(status=409, title="Conflict", detail=detail)


def _instant(text: str, where: str, *, slack_years: int = 0) -> datetime:
    """An RFC 3339 moment from a request, inside the mock's calendar (see specs/admin.yaml)."""
    try:
        return calendar_moment(text, slack_years=slack_years)
    except ValueError as exc:  # the schema's pattern lets no such moment through; kept as a net
        raise _bad_request(f"{where}: {exc}.") from None


def _with_moments_checked(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (an OrgRecord) with every moment checked and written as ``...Z``."""
    data: dict[str, Any] = json.loads(json.dumps(body))
    moment = functools.partial(_instant, slack_years=MAX_STEP_YEARS)
    for path in _RECORD_MOMENTS:
        *parents, key = path
        holder: Any = data
        for name in parents:
            holder = holder.get(name) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and isinstance(holder.get(key), str):
            holder[key] = isoformat(moment(holder[key], "/".join(path)))
    for index, ingest in enumerate(data.get("ingests", [])):
        ingest["at"] = isoformat(moment(ingest["at"], f"ingests/{index}/at"))
    total = sum(ingest["amount"] for ingest in data.get("ingests", []))
    if total > MAX_INGESTED:
        raise _bad_request(
            f"ingests: the amounts add up to {total}, more than the {MAX_INGESTED} an org may "
            "hold; send fewer or smaller ingests."
        )
    return data


def admin_operations(ctx: MockContext) -> dict[str, Callable[..., Any]]:
    """The admin API's handlers by operationId."""
    engine = ctx.engine

    def clock_view(clock: ClockState) -> dict[str, Any]:
        return {
            "now": isoformat(engine.shows(clock)),
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

    def check_fault(api: str, fault: Fault | None) -> None:
        errors = sorted(s for s in ctx.statuses[api] if s >= 400)
        if fault is not None and fault.status is not None and fault.status not in errors:
            raise _conflict(
                f"Status {fault.status} is not documented by the {api} API, so a client could "
                f"not expect it; use one of {', '.join(map(str, errors))}."
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
            moment = _instant(body["now"], "now")
            return clock_view(engine.set_now(moment, frozen=body.get("frozen")))
        return clock_view(engine.freeze(body["frozen"]))

    async def reset_clock() -> Any:
        return clock_view(engine.reset_clock())

    async def advance_clock(body: dict[str, Any]) -> Any:
        try:  # the schema's pattern lets only well-formed steps through
            return clock_view(engine.advance(parse_step(body["by"])))
        except (StateConflict, ValueError) as exc:  # past the calendar, or past any datetime
            raise _conflict(f"{body['by']}: {exc}") from None

    async def list_orgs() -> Any:
        return [{"api": api, "org_id": org} for api, org in engine.orgs()]

    async def reset_all() -> Any:
        engine.reset_all()
        return NoContent, 204

    async def get_org(api: str, org_id: str) -> Any:
        return org_view(engine.record(api, org_id), engine.is_stored(api, org_id))

    async def replace_org(api: str, org_id: str, body: dict[str, Any]) -> Any:
        if (body["api"], body["org_id"]) != (api, org_id):
            raise _conflict(
                f"The record is for {body['api']}/{body['org_id']} but the path names "
                f"{api}/{org_id}; they must agree."
            )
        record = from_json(_with_moments_checked(body))
        check_fault(api, record.fault)
        return org_view(engine.replace_record(record), True)

    async def get_chart(api: str, org_id: str) -> Any:
        return chart_json(engine.record(api, org_id), engine.now())

    async def reset_org(api: str, org_id: str) -> Any:
        engine.reset(api, org_id)
        return await get_org(api, org_id)

    async def apply_scenario(api: str, org_id: str, body: dict[str, Any]) -> Any:
        try:
            record = engine.apply_scenario(api, org_id, body["name"])
        except UnknownScenario as exc:
            raise ProblemException(status=404, title="Not Found", detail=str(exc)) from None
        except FixtureError as exc:
            raise _conflict(str(exc)) from None
        return org_view(record, True)

    async def ingest(api: str, org_id: str, body: dict[str, Any]) -> Any:
        at = _instant(body["at"], "at") if "at" in body else None
        try:
            return org_view(engine.ingest(api, org_id, body["amount"], at), True)
        except StateConflict as exc:
            raise _conflict(str(exc)) from None

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
        "resetClock": reset_clock,
        "listOrgs": list_orgs,
        "resetAll": reset_all,
        "getOrg": get_org,
        "replaceOrg": replace_org,
        "getChart": get_chart,
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
        if "org_id" in kwargs:
            kwargs["org_id"] = restore(kwargs["org_id"])
        result = await handler(*args, **kwargs)
        return result if isinstance(result, tuple) else (result, 200, JSON)

    return answer


_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _routes(document: Mapping[str, Any]) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """Each admin path (as a regex on the request path) with the methods it declares."""
    routes = []
    for template, item in document.get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        methods = {m.upper() for m in item if m in _METHODS}
        if "GET" in methods:
            methods.add("HEAD")
        routes.append((re.compile(f"{re.escape(PREFIX)}{pattern}", re.DOTALL), frozenset(methods)))
    return routes


def is_docs(path: str) -> bool:
    """Whether ``path`` is a page open to everyone, as it holds no data.

    The admin API's docs (Swagger UI, openapi.json), and the control panel's page and static
    files (``web/panel.py``; its data comes from gated requests).
    """
    return (
        path.startswith(f"{PREFIX}/ui")
        or path == f"{PREFIX}/openapi.json"
        or path in (PANEL, f"{PANEL}/")
        or path.startswith(f"{PANEL}/static/")
    )


class AdminGate:
    """Who may use the admin API, and what reaches it.

    Holders of the admin token may, or anyone on loopback when there is none. The docs (``ui/``,
    ``openapi.json``) stay readable, so a locked API still explains itself. Two answers are made
    here because connexion gets them wrong for the admin API, the only one with several methods
    on a path and request bodies: the 405 for an undeclared method (starlette's router lists only
    the first route's methods in ``Allow``), and the 400 for a body that is not UTF-8 (connexion
    lets the decode error out as a 500).
    """

    def __init__(self, app: ASGIApp, token: str | None, *, loopback: bool) -> None:
        self.app, self.token, self.loopback = app, token, loopback
        self.routes = _routes(load_bundled("admin"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse (401/403/405/400, problem+json) or pass the request on."""
        path = scope.get("path", "")
        if scope["type"] != "http" or is_docs(path):
            await self.app(scope, receive, send)
            return
        sent = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"authorization"]
        refusal = self._refusal(sent)
        if refusal is not None:
            status, detail = refusal
            extra = (
                [(b"www-authenticate", challenge("admin", sent).encode())] if status == 401 else []
            )
            await send_error(send, status, detail, kenbun_error, extra)
            return
        allowed = next((m for pattern, m in self.routes if pattern.fullmatch(path)), None)
        if allowed is not None and scope["method"] not in allowed:
            allow = ", ".join(sorted(allowed))
            detail = f"{scope['method']} is not an operation of {path}; it takes {allow}."
            await send_error(send, 405, detail, kenbun_error, [(b"allow", allow.encode())])
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            body.decode()
        except UnicodeDecodeError as exc:
            detail = f"The request body is not UTF-8 ({exc.reason} at byte {exc.start}); send JSON."
            await send_error(send, 400, detail, kenbun_error, [])
            return
        await self.app(scope, _replay(body, receive), send)

    def _refusal(self, authorization: list[str]) -> tuple[int, str] | None:
        try:  # the public APIs' rule: one credential, the scheme in any case
            sent = credentials(authorization)
        except NotOneCredential as exc:
            return 401, str(exc.detail)
        if self.token is None:
            if self.loopback:
                return None
            return 403, (
                "The admin API is locked: the server binds beyond loopback without "
                "an admin token. Restart it with --admin-token to use it remotely."
            )
        scheme, token = sent or ("", "")
        if scheme == "bearer" and hmac.compare_digest(token.encode(), self.token.encode()):
            return None
        return 401, "The admin API needs 'Authorization: Bearer <the --admin-token value>'."


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then waits as the server would."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
