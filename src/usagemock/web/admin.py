"""The admin API (``/_usagemock``, specs/admin.yaml): scenarios, org state, clock, faults."""

from __future__ import annotations

import functools
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from connexion import NoContent
from connexion.exceptions import ProblemException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usagemock.domain.clock import ClockState, parse_step
from usagemock.domain.faults import Fault
from usagemock.domain.periods import isoformat
from usagemock.domain.records import OrgRecord, from_json, to_json
from usagemock.engine import UnknownScenario
from usagemock.errors import FixtureError
from usagemock.specs import load_bundled
from usagemock.web.errors import kenbun_error, send_error
from usagemock.web.handlers import JSON, MockContext, body_now
from usagemock.web.paths import restore

PREFIX = "/_usagemock"

# The mock's calendar. Billing maths adds months to these moments and every date goes out as
# four-digit RFC 3339, so a clock or ingest in year 220 or 9999 could not be answered.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
_RECORD_MOMENTS = (("anchor",), ("applied_at",), ("organic", "since"), ("trial", "ends_at"))


def _bad_request(detail: str) -> ProblemException:
    return ProblemException(status=400, title="Bad Request", detail=detail)


def _in_calendar(moment: datetime, where: str) -> datetime:
    if not EARLIEST <= moment < LATEST:
        raise _bad_request(
            f"{where} would be {moment.isoformat()}, outside the mock's calendar; use a moment "
            f"from {isoformat(EARLIEST)} to before {isoformat(LATEST)}."
        )
    return moment


def _instant(text: str, where: str) -> datetime:
    """An RFC 3339 moment from a request (``t``/``z`` in any case), inside the mock's calendar."""
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError as exc:  # a leap second (:60) is valid RFC 3339 but no Python datetime
        raise _bad_request(f"{where} is {text!r}, which the mock cannot use ({exc}).") from None
    return _in_calendar(moment, where)


def _with_moments_checked(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (an OrgRecord) with every moment checked and written as ``...Z``."""
    data: dict[str, Any] = json.loads(json.dumps(body))
    for path in _RECORD_MOMENTS:
        *parents, key = path
        holder: Any = data
        for name in parents:
            holder = holder.get(name) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and isinstance(holder.get(key), str):
            holder[key] = isoformat(_instant(holder[key], "/".join(path)))
    for index, ingest in enumerate(data.get("ingests", [])):
        ingest["at"] = isoformat(_instant(ingest["at"], f"ingests/{index}/at"))
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
            raise _bad_request(
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

    async def advance_clock(body: dict[str, Any]) -> Any:
        try:
            step = parse_step(body["by"])
        except ValueError as exc:
            raise _bad_request(str(exc)) from None
        try:
            _in_calendar(engine.now() + step, "The clock")
        except (OverflowError, ValueError):
            raise _bad_request(
                f"{body['by']} is more than the mock's calendar can take; use a shorter step."
            ) from None
        return clock_view(engine.advance(step))

    async def list_orgs() -> Any:
        return [{"api": api, "org_id": org} for api, org in engine.orgs()]

    async def reset_all() -> Any:
        engine.reset_all()
        return NoContent, 204

    async def get_org(api: str, org_id: str) -> Any:
        return org_view(engine.record(api, org_id), engine.is_stored(api, org_id))

    async def replace_org(api: str, org_id: str, body: dict[str, Any]) -> Any:
        if (body["api"], body["org_id"]) != (api, org_id):
            raise _bad_request(
                f"The record is for {body['api']}/{body['org_id']} but the path names "
                f"{api}/{org_id}; they must agree."
            )
        record = from_json(_with_moments_checked(body))
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
            raise _bad_request(str(exc)) from None
        return org_view(record, True)

    async def ingest(api: str, org_id: str, body: dict[str, Any]) -> Any:
        at = _instant(body["at"], "at") if "at" in body else None
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
        docs = path.startswith(f"{PREFIX}/ui") or path == f"{PREFIX}/openapi.json"
        if scope["type"] != "http" or docs:
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            status, detail = refusal
            extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
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
