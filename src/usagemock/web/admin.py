"""The admin API's operations (specs/admin.yaml): scenarios, org state, clock, faults.

Each operation is a plain function of the :class:`~usagemock.web.handlers.MockContext` and the
request's parameters; it changes and reads state only through the engine.
:func:`admin_operations` binds them to one context for connexion. Who may call them is
:mod:`usagemock.web.gate`'s job.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from connexion import NoContent
from connexion.context import scope as current_scope
from connexion.exceptions import ProblemException

from usagemock.domain.clock import (
    MAX_STEP_YEARS,
    ClockState,
    calendar_moment,
    parse_step,
)
from usagemock.domain.faults import Fault
from usagemock.domain.periods import isoformat
from usagemock.domain.records import MAX_INGESTED, OrgRecord
from usagemock.engine import StateConflict, UnknownScenario
from usagemock.errors import FixtureError
from usagemock.stored import from_json, to_json
from usagemock.web.admin_spec import record_moments
from usagemock.web.charts import chart_json
from usagemock.web.handlers import JSON, MockContext, body_now
from usagemock.web.paths import restore


def _bad_request(detail: str) -> ProblemException:
    return ProblemException(status=400, title="Bad Request", detail=detail)


def _conflict(detail: str) -> ProblemException:
    """A valid request the mock's state cannot take.

    RFC 9110 names 409 for a PUT inconsistent with its target, or a change that conflicts with
    the resource's current state.
    """
    return ProblemException(status=409, title="Conflict", detail=detail)


def _not_found(exc: UnknownScenario) -> ProblemException:
    return ProblemException(status=404, title="Not Found", detail=str(exc))


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
    for path in record_moments():
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


def _clock_view(ctx: MockContext, clock: ClockState) -> dict[str, Any]:
    """The ``Clock`` body: the moment the mock shows, and how it moves."""
    return {
        "now": isoformat(ctx.engine.shows(clock)),
        "frozen": clock.frozen,
        "offset_seconds": 0.0 if clock.frozen else clock.offset.total_seconds(),
    }


def _org_view(ctx: MockContext, record: OrgRecord, changed: bool) -> dict[str, Any]:
    """The ``OrgState`` body: the record, whether it is stored, and what the API answers now."""
    now = ctx.engine.now()
    return {
        "record": to_json(record),
        "changed": changed,
        "now": isoformat(now),
        "response": body_now(record, now),
    }


def _check_fault(ctx: MockContext, api: str, fault: Fault | None) -> None:
    """Refuse a fault whose status ``api`` does not document (a client could not expect it)."""
    errors = sorted(s for s in ctx.statuses[api] if s >= 400)
    if fault is not None and fault.status is not None and fault.status not in errors:
        raise _conflict(
            f"Status {fault.status} is not documented by the {api} API, so a client could "
            f"not expect it; use one of {', '.join(map(str, errors))}."
        )


async def list_scenarios(ctx: MockContext) -> Any:
    """``GET /scenarios``: every loaded scenario's name, description and APIs, by name."""
    return [
        {"name": s.name, "description": s.description, "apis": list(s.apis)}
        for s in sorted(ctx.engine.scenarios.values(), key=lambda s: s.name)
    ]


async def get_scenario(ctx: MockContext, name: str) -> Any:
    """``GET /scenarios/{name}``: one scenario with its sections."""
    try:
        scenario = ctx.engine.scenario(name)
    except UnknownScenario as exc:
        raise _not_found(exc) from None
    return {
        "name": scenario.name,
        "description": scenario.description,
        "apis": list(scenario.apis),
        "sections": dict(scenario.sections),
    }


async def get_clock(ctx: MockContext) -> Any:
    """``GET /clock``: the mock's clock."""
    return _clock_view(ctx, ctx.engine.clock())


async def set_clock(ctx: MockContext, body: dict[str, Any]) -> Any:
    """``PUT /clock``: set the moment (frozen or running from it), or only freeze or thaw."""
    if "now" in body:
        moment = _instant(body["now"], "now")
        return _clock_view(ctx, ctx.engine.set_now(moment, frozen=body.get("frozen")))
    return _clock_view(ctx, ctx.engine.freeze(body["frozen"]))


async def reset_clock(ctx: MockContext) -> Any:
    """``POST /clock/reset``: back to real time."""
    return _clock_view(ctx, ctx.engine.reset_clock())


async def advance_clock(ctx: MockContext, body: dict[str, Any]) -> Any:
    """``POST /clock/advance``: move the clock by a step (``P1M``, ``PT2H``...)."""
    try:  # the schema's pattern lets only well-formed steps through
        return _clock_view(ctx, ctx.engine.advance(parse_step(body["by"])))
    except (StateConflict, ValueError) as exc:  # past the calendar, or past any datetime
        raise _conflict(f"{body['by']}: {exc}") from None


async def list_orgs(ctx: MockContext) -> Any:
    """``GET /orgs``: every org with a stored record."""
    return [{"api": api, "org_id": org} for api, org in ctx.engine.orgs()]


async def reset_all(ctx: MockContext) -> Any:
    """``DELETE /orgs``: forget every stored record."""
    ctx.engine.reset_all()
    return NoContent, 204


async def get_org(ctx: MockContext, api: str, org_id: str) -> Any:
    """``GET /orgs/{api}/{org_id}``: the org's record and what the API answers for it now."""
    return _org_view(ctx, ctx.engine.record(api, org_id), ctx.engine.is_stored(api, org_id))


async def replace_org(ctx: MockContext, api: str, org_id: str, body: dict[str, Any]) -> Any:
    """``PUT /orgs/{api}/{org_id}``: store a whole record, its moments and fault checked."""
    if (body["api"], body["org_id"]) != (api, org_id):
        raise _conflict(
            f"The record is for {body['api']}/{body['org_id']} but the path names "
            f"{api}/{org_id}; they must agree."
        )
    record = from_json(_with_moments_checked(body))
    _check_fault(ctx, api, record.fault)
    return _org_view(ctx, ctx.engine.replace_record(record), True)


async def get_chart(ctx: MockContext, api: str, org_id: str) -> Any:
    """``GET /orgs/{api}/{org_id}/chart``: the org's usage sampled over its period, for a chart."""
    return chart_json(ctx.engine.record(api, org_id), ctx.engine.now())


async def reset_org(ctx: MockContext, api: str, org_id: str) -> Any:
    """``POST /orgs/{api}/{org_id}/reset``: forget the org's record; answer its fresh state."""
    ctx.engine.reset(api, org_id)
    return await get_org(ctx, api, org_id)


async def apply_scenario(ctx: MockContext, api: str, org_id: str, body: dict[str, Any]) -> Any:
    """``PUT /orgs/{api}/{org_id}/scenario``: put the org into a loaded scenario from now."""
    try:
        record = ctx.engine.apply_scenario(api, org_id, body["name"])
    except UnknownScenario as exc:
        raise _not_found(exc) from None
    except FixtureError as exc:
        raise _conflict(str(exc)) from None
    return _org_view(ctx, record, True)


async def ingest(ctx: MockContext, api: str, org_id: str, body: dict[str, Any]) -> Any:
    """``POST /orgs/{api}/{org_id}/ingest``: add usage, now or at a given moment."""
    at = _instant(body["at"], "at") if "at" in body else None
    try:
        return _org_view(ctx, ctx.engine.ingest(api, org_id, body["amount"], at), True)
    except StateConflict as exc:
        raise _conflict(str(exc)) from None


async def set_fault(ctx: MockContext, api: str, org_id: str, body: dict[str, Any]) -> Any:
    """``PUT /orgs/{api}/{org_id}/fault``: make the org's answers fail or slow down."""
    fault = Fault(**body)
    _check_fault(ctx, api, fault)
    return _org_view(ctx, ctx.engine.set_fault(api, org_id, fault), True)


async def clear_fault(ctx: MockContext, api: str, org_id: str) -> Any:
    """``DELETE /orgs/{api}/{org_id}/fault``: the org answers normally again."""
    return _org_view(ctx, ctx.engine.set_fault(api, org_id, None), True)


OPERATIONS: dict[str, Callable[..., Any]] = {
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
"""The admin API's operations by operationId."""


def admin_operations(ctx: MockContext) -> dict[str, Callable[..., Any]]:
    """The admin API's handlers by operationId, bound to ``ctx``, as connexion calls them."""
    return {name: _as_json(ctx, operation) for name, operation in OPERATIONS.items()}


def _as_json(ctx: MockContext, operation: Callable[..., Any]) -> Callable[..., Any]:
    """``operation`` bound to ``ctx``, its body marked as JSON and its ``org_id`` restored.

    The operations also declare problem+json (for errors), and connexion refuses to guess.
    """
    bound = functools.partial(operation, ctx)

    @functools.wraps(bound)  # connexion reads the handler's parameters through this
    async def answer(*args: Any, **kwargs: Any) -> Any:
        if "org_id" in kwargs:
            kwargs["org_id"] = restore(kwargs["org_id"], current_scope)
        result = await bound(*args, **kwargs)
        return result if isinstance(result, tuple) else (result, 200, JSON)

    return answer
