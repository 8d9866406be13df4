"""Servers that differ from the mock only where the vendor documents leave a choice open.

Each is the reference server of ``broken_servers.py`` with one difference the vendor allows
(an error body where none is documented, another documented status for the same case, extra
fields, other spellings of the same timestamp, HTTP's own freedoms...). The kit must pass every
one: a note at most, never a failure.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from tests.kit.broken_servers import (
    OWNED,
    Body,
    Call,
    kenbun_app,
    month_of,
    not_found_for_unknown_orgs,
    stamp,
    timbal_app,
)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _refusal(
    status: int, body: bytes, media_type: str | None
) -> Callable[[Call, Response], Response]:
    """Answer every 401 with ``status``, ``body`` and ``media_type`` instead."""

    def bug(call: Call, response: Response) -> Response:
        if response.status_code == 401:
            return Response(body, status, media_type=media_type)
        return response

    return bug


def _json_bodies(transform: Callable[[Any], bytes], media_type: str = "application/json"):
    """Re-encode every JSON answer with ``transform`` and send it as ``media_type``."""

    def bug(call: Call, response: Response) -> Response:
        data = json.loads(bytes(response.body))
        return Response(transform(data), response.status_code, media_type=media_type)

    return bug


def _gzipped(call: Call, response: Response) -> Response:
    body = gzip.compress(bytes(response.body))
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return Response(body, response.status_code, headers, response.media_type)


def _shouting_headers(call: Call, response: Response) -> Response:
    # HTTP field names are case-insensitive (RFC 9110 section 5.1).
    response.raw_headers = [(name.upper(), value) for name, value in response.raw_headers]
    return response


def _extra_headers(call: Call, response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Request-Id"] = f"req-{call.number}"
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _times(body: Body, names: tuple[str, ...], spell: Callable[[datetime], str]) -> Body:
    return {
        **body,
        **{n: spell(_instant(body[n])) for n in names if isinstance(body.get(n), str)},
    }


KENBUN_TIMES = ("billing_cycle_start", "billing_cycle_end", "trial_ends_at")
TIMBAL_TIMES = ("period_start", "period_end")
PLUS_TWO = timezone(timedelta(hours=2))


def _kenbun_plan_change(call: Call, body: Body) -> Body:
    # Upgraded mid-cycle on odd calls: a bigger allowance, another rate and unit, a new name.
    if call.number % 2 == 0:
        return body
    limit = 10_000_000
    return {
        **body,
        "free_tier_limit": limit,
        "overage_rate_cents": 0,
        "overage_unit": 1,
        "overage": body["monthly_events"] > limit,
        "org_name": "Kenbun Test Org (renamed)",
    }


def _kenbun_end_next_start(call: Call, body: Body) -> Body:
    _, after = month_of(call.now)
    return {**body, "billing_cycle_end": stamp(after)}


def _kenbun_end_millis(call: Call, body: Body) -> Body:
    end = body["billing_cycle_end"].replace("Z", ".999Z")
    return {**body, "billing_cycle_end": end}


def _kenbun_trial_without_end(call: Call, body: Body) -> Body:
    return {**body, "trial_ends_at": None}


def _timbal_plans_per_org(call: Call, body: Body) -> Body:
    # org_b2 is on a free plan: no metered window, overage off, nothing priced.
    if call.org_id != OWNED[1]:
        return {**body, "enabled": True, "cap_credits": None}
    return {
        "enabled": False,
        "cap_credits": None,
        "used_credits": 0,
        "invoiced_credits": 0,
        "pending_credits": 0,
        "period_start": None,
        "period_end": None,
        "rate_cents_per_1k": None,
        "threshold_usd": None,
    }


def _without_nulls(call: Call, body: Body) -> Body:
    # Only the four required fields must be there; a null optional one may be left out.
    return {name: value for name, value in body.items() if value is not None}


def _extra_fields(call: Call, body: Body) -> Body:
    return {**body, "region": "eu-west-1", "plan": {"name": "pro", "since": stamp(call.now)}}


def _rate_limited(call: Call, response: Response) -> Response:
    if call.number % 4:
        return response
    body = {"code": "RATE_LIMITED", "message": "Slow down."}
    return JSONResponse(body, 429, headers={"Retry-After": "1"})


def _forbidden_not_unauthorized(call: Call, response: Response) -> Response:
    if response.status_code == 401:  # Timbal documents 403 (ErrorMessage) for this case too
        return JSONResponse({"code": "FORBIDDEN", "message": "Invalid API key."}, 403)
    return response


def _not_found_for_other_methods(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] != "GET":
            await JSONResponse({"code": "NOT_FOUND", "message": "No route."}, 404)(
                scope, receive, send
            )
            return
        await app(scope, receive, send)

    return wrapped


def _refuse_encoded_slashes(app: ASGIApp) -> ASGIApp:
    # As Apache with AllowEncodedSlashes off, or a router matching the decoded path: 404.
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        raw = scope.get("raw_path") or b""
        if scope["type"] == "http" and b"%2f" in raw.lower():
            await Response("Not Found", 404, media_type="text/plain")(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapped


@dataclass(frozen=True)
class Conformant:
    """One conformant server: its API, how it differs from the mock, and how to build it."""

    name: str
    api: str
    differs: str
    app: Callable[[], ASGIApp]


def _kenbun(name: str, differs: str, **bugs: Any) -> Conformant:
    return Conformant(name, "kenbun", differs, lambda: kenbun_app(**bugs))


def _timbal(name: str, differs: str, **bugs: Any) -> Conformant:
    return Conformant(name, "timbal", differs, lambda: timbal_app(**bugs))


def _both(name: str, differs: str, **bugs: Any) -> tuple[Conformant, Conformant]:
    return _kenbun(name, differs, **bugs), _timbal(name, differs, **bugs)


_COMPACT = lambda data: json.dumps(data, separators=(",", ":")).encode()  # noqa: E731

CONFORMANT: tuple[Conformant, ...] = (
    _kenbun(
        "json_code_message_401",
        "401 as application/json {code, message}: Kenbun documents no error body",
        response_bug=_refusal(
            401, b'{"code":"UNAUTHORIZED","message":"Bad token."}', "application/json"
        ),
    ),
    _kenbun(
        "text_plain_401",
        "401 as text/plain",
        response_bug=_refusal(401, b"Unauthorized", "text/plain"),
    ),
    _kenbun(
        "empty_401",
        "401 with an empty body and no content type",
        response_bug=_refusal(401, b"", None),
    ),
    _kenbun(
        "plan_changes_mid_cycle",
        "another plan on every other call: allowance, rate, unit and org name change in a cycle",
        body_bug=_kenbun_plan_change,
    ),
    _kenbun(
        "cycle_end_is_next_start",
        "billing_cycle_end is the next cycle's first moment, not the last second of this one",
        body_bug=_kenbun_end_next_start,
    ),
    _kenbun(
        "cycle_end_milliseconds",
        "billing_cycle_end at ...T23:59:59.999Z",
        body_bug=_kenbun_end_millis,
    ),
    _kenbun(
        "trialing_without_end",
        "trialing with trial_ends_at null (the docs only require null outside a trial)",
        body_bug=_kenbun_trial_without_end,
    ),
    _timbal(
        "not_found_for_orgs_not_owned",
        "404 ErrorMessage, not 403, for an org the token may not read (OpenAPI: the documented "
        "statuses need not be all; a note)",
        response_bug=not_found_for_unknown_orgs,
    ),
    _kenbun(
        "rate_limited",
        "429 with Retry-After on every 4th call, the kit's samples included (a note)",
        response_bug=_rate_limited,
    ),
    _timbal(
        "forbidden_without_token",
        "403 ErrorMessage (documented) instead of 401 for a missing or invalid token",
        response_bug=_forbidden_not_unauthorized,
    ),
    _timbal(
        "text_plain_401",
        "401 as text/plain: the 401 is our addition, its body too",
        response_bug=_refusal(401, b"Unauthorized", "text/plain"),
    ),
    _timbal("empty_401", "401 with an empty body", response_bug=_refusal(401, b"", None)),
    _timbal(
        "plans_per_org",
        "one org capped without a limit, the other on a free plan with no metered window",
        body_bug=_timbal_plans_per_org,
    ),
    _timbal(
        "nulls_left_out",
        "optional fields left out instead of null",
        body_bug=_without_nulls,
    ),
    *_both("extra_fields", "undocumented extra fields in the 200 body", body_bug=_extra_fields),
    *_both(
        "charset_parameter",
        "application/json; charset=utf-8",
        response_bug=_json_bodies(_COMPACT, "application/json; charset=utf-8"),
    ),
    *_both(
        "pretty_json",
        "indented JSON with sorted keys",
        response_bug=_json_bodies(lambda d: json.dumps(d, indent=2, sort_keys=True).encode()),
    ),
    *_both("gzip", "every body gzip-compressed (Content-Encoding: gzip)", response_bug=_gzipped),
    *_both("header_casing", "header names in upper case", response_bug=_shouting_headers),
    *_both(
        "extra_headers",
        "Cache-Control, a request id, and WWW-Authenticate on 401",
        response_bug=_extra_headers,
    ),
    _kenbun(
        "offset_plus_zero",
        "timestamps with +00:00 instead of Z",
        body_bug=lambda c, b: _times(b, KENBUN_TIMES, lambda t: t.isoformat()),
    ),
    _kenbun(
        "offset_plus_two",
        "timestamps in another zone (+02:00), the same moments",
        body_bug=lambda c, b: _times(b, KENBUN_TIMES, lambda t: t.astimezone(PLUS_TWO).isoformat()),
    ),
    _timbal(
        "offset_plus_zero",
        "timestamps with +00:00 instead of Z",
        body_bug=lambda c, b: _times(b, TIMBAL_TIMES, lambda t: t.isoformat()),
    ),
    _timbal(
        "fractional_seconds",
        "timestamps with microseconds",
        body_bug=lambda c, b: _times(
            b, TIMBAL_TIMES, lambda t: t.isoformat(timespec="microseconds")
        ),
    ),
)

#: The differences that change only the app around the endpoint.
WRAPPED: tuple[Conformant, ...] = (
    Conformant(
        "not_found_for_other_methods",
        "kenbun",
        "404, not 405, for methods other than GET (HTTP leaves it open; a note)",
        lambda: _not_found_for_other_methods(kenbun_app()),
    ),
    Conformant(
        "refuses_encoded_slashes",
        "timbal",
        "404 text/plain for an org id with %2F, before routing (HTTP leaves it open; a note)",
        lambda: _refuse_encoded_slashes(timbal_app()),
    ),
    Conformant(
        "not_found_for_other_methods",
        "timbal",
        "404, not 405, for methods other than GET (HTTP leaves it open; a note)",
        lambda: _not_found_for_other_methods(timbal_app()),
    ),
)


def _compose(*bugs: Callable[[Call, Any], Any]) -> Callable[[Call, Any], Any]:
    def composed(call: Call, value: Any) -> Any:
        for bug in bugs:
            value = bug(call, value)
        return value

    return composed


#: One server per API with every difference of its family at once.
ALL_AT_ONCE: dict[str, Callable[[], ASGIApp]] = {
    "kenbun": lambda: _not_found_for_other_methods(
        kenbun_app(
            body_bug=_compose(_kenbun_plan_change, _kenbun_end_millis, _extra_fields),
            response_bug=_compose(
                _refusal(401, b'{"code":"UNAUTHORIZED","message":"x"}', "application/json"),
                _extra_headers,
                _json_bodies(_COMPACT, "application/json; charset=utf-8"),
                _gzipped,
                _shouting_headers,
            ),
        )
    ),
    "timbal": lambda: _refuse_encoded_slashes(
        _not_found_for_other_methods(
            timbal_app(
                body_bug=_compose(_timbal_plans_per_org, _without_nulls, _extra_fields),
                response_bug=_compose(
                    _forbidden_not_unauthorized,
                    _extra_headers,
                    _json_bodies(_COMPACT, "application/json; charset=utf-8"),
                    _gzipped,
                    _shouting_headers,
                ),
            )
        )
    ),
}
