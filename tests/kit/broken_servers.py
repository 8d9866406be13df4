"""A correct reference server per API, and a family of servers that each break one documented fact.

Each server is a small ASGI app. The reference keeps every rule while its data moves on every
call (as real usage does, only ever up within a period): the boundary ``monthly_events ==
free_tier_limit``, null periods, every subscription status, a period around the real now. A
broken server is the reference with one mutation, and some mutations fire only on some calls or
some inputs, as real bugs do. The conformant family (``conformant_servers.py``) differs from
the mock only where the vendor documents leave a choice open.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

TOKEN = "kit-secret-token-5f1c"  # the kit's token: tests assert it never shows in any output
OWNED = ("org_alpha", "org_b2")  # Timbal orgs the token owns; one has a digit in its id
STATUSES = ("active", "trialing", "past_due", "canceled", "ended", "expired", "none")

Body = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One request as a server sees it: its number (from 1), org id, Authorization header, time."""

    number: int
    org_id: str | None
    authorization: str | None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def second_half(self) -> bool:
        """Whether this call falls in the second half of every ten calls."""
        return self.number % 10 >= 5


BodyBug = Callable[[Call, Body], Body]
ResponseBug = Callable[[Call, Response], Response]


def stamp(moment: datetime) -> str:
    """A UTC moment as the docs write it: ``2026-03-01T00:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def month_of(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) ``now`` falls in: its first moment and the next month's."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    after = (start + timedelta(days=32)).replace(day=1)
    return start, after


def timbal_body(call: Call) -> Body:
    """A correct OverageSummary that changes with every call; credits only grow."""
    n = call.number
    pending = 1_000 + 37 * n
    invoiced = 50_000 * (n // 3)
    used = invoiced + pending
    windowless = n % 6 == 0
    start, end = month_of(call.now)
    return {
        "enabled": n % 7 != 0,
        "cap_credits": None if n % 4 == 0 else used + 10_000,
        "used_credits": used,
        "invoiced_credits": invoiced,
        "pending_credits": pending,
        "period_start": None if windowless else stamp(start),
        "period_end": None if windowless else stamp(end),
        "rate_cents_per_1k": None if n % 5 == 0 else 10,
        "threshold_usd": None if n % 2 == 0 else 500,
    }


KENBUN_LIMIT = 250_000


def kenbun_body(call: Call) -> Body:
    """A correct Usage that changes with every call, exactly at the limit on calls 5 to 9."""
    n = call.number
    # Only grows, and stays at the limit for five calls, so the boundary is asked by an
    # authorized request whatever probes (the kit's auth-mode look, say) come first.
    events = 50_000 * (n if n < 5 else 5 if n < 10 else n - 4)
    status = STATUSES[n % len(STATUSES)]
    start, after = month_of(call.now)
    return {
        "monthly_events": events,
        "free_tier_limit": KENBUN_LIMIT,
        "overage_rate_cents": 100,
        "overage_unit": 10_000,
        "overage": events > KENBUN_LIMIT,
        "billing_cycle_start": stamp(start),
        "billing_cycle_end": stamp(after - timedelta(seconds=1)),
        "org_id": "org_kenbun",
        "org_name": "Kenbun Test Org",
        "subscription_status": status,
        "trial_ends_at": stamp(call.now + timedelta(days=10)) if status == "trialing" else None,
    }


def _authorized(call: Call) -> bool:
    return call.authorization == f"Bearer {TOKEN}"


Handler = Callable[[Request, dict[str, str]], Awaitable[Response]]


def route(pattern: str, handler: Handler) -> ASGIApp:
    """A one-route ASGI app: GET on ``pattern`` (any character in a parameter), else 405 or 404.

    Starlette's router does not match a newline inside a path parameter (fuzzed org ids have
    them), nor an encoded slash once the server decoded it: this one matches the raw path.
    """
    regex = re.compile(pattern, re.DOTALL)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        raw = scope.get("raw_path") or scope["path"].encode()
        match = regex.fullmatch(raw.decode("latin-1"))  # %2F stays inside the org id
        response: Response
        if match is None:
            response = JSONResponse({"code": "NOT_FOUND", "message": "No such path."}, 404)
        elif scope["method"] != "GET":
            error = {"code": "METHOD_NOT_ALLOWED", "message": "GET only."}
            response = JSONResponse(error, 405, {"Allow": "GET"})
        else:
            params = {name: unquote(value) for name, value in match.groupdict().items()}
            response = await handler(Request(scope, receive), params)
        await response(scope, receive, send)

    return app


def timbal_app(body_bug: BodyBug | None = None, response_bug: ResponseBug | None = None) -> ASGIApp:
    """Timbal's overage endpoint, correct unless a bug is given."""
    calls = 0

    async def overage(request: Request, params: dict[str, str]) -> Response:
        nonlocal calls
        calls += 1
        call = Call(calls, params["org_id"], request.headers.get("authorization"))
        response: Response
        if not _authorized(call):
            error = {"code": "UNAUTHORIZED", "message": "Missing or invalid bearer token."}
            response = JSONResponse(error, 401)
        elif call.org_id not in OWNED:
            response = JSONResponse({"code": "FORBIDDEN", "message": "Not your org."}, 403)
        else:
            body = timbal_body(call)
            response = JSONResponse(body_bug(call, body) if body_bug else body)
        return response_bug(call, response) if response_bug else response

    return route(r"/orgs/(?P<org_id>[^/]+)/billing/overage", overage)


def kenbun_app(body_bug: BodyBug | None = None, response_bug: ResponseBug | None = None) -> ASGIApp:
    """Kenbun's usage endpoint, correct unless a bug is given."""
    calls = 0

    async def usage(request: Request, params: dict[str, str]) -> Response:
        nonlocal calls
        calls += 1
        call = Call(calls, None, request.headers.get("authorization"))
        response: Response
        if not _authorized(call):
            problem = {
                "type": "about:blank",
                "title": "Unauthorized",
                "status": 401,
                "detail": "Missing or invalid bearer token.",
            }
            response = JSONResponse(problem, 401, media_type="application/problem+json")
        else:
            body = kenbun_body(call)
            response = JSONResponse(body_bug(call, body) if body_bug else body)
        return response_bug(call, response) if response_bug else response

    return route("/usage", usage)


def _set(body: Body, **changes: Any) -> Body:
    return {**body, **changes}


def _ok_for_any_token(call: Call, response: Response) -> Response:
    if response.status_code == 401 and call.authorization:
        return JSONResponse(kenbun_body(call))
    return response


def _ok_without_token(call: Call, response: Response) -> Response:
    if response.status_code == 401 and call.authorization is None:
        return JSONResponse(timbal_body(call))
    return response


def _owned_by_everyone(call: Call, response: Response) -> Response:
    if response.status_code == 403:
        return JSONResponse(timbal_body(call))
    return response


def _crash_on_long_ids(call: Call, response: Response) -> Response:
    if call.org_id is not None and len(call.org_id) > 255:
        return Response("Internal Server Error", 500, media_type="text/html")
    return response


def _text_on_403(call: Call, response: Response) -> Response:
    if response.status_code == 403:
        return Response("Forbidden", 403, media_type="text/plain")
    return response


def _bad_request_without_token(call: Call, response: Response) -> Response:
    if response.status_code == 401 and call.authorization is None:
        return JSONResponse({"code": "BAD_REQUEST", "message": "No org context."}, 400)
    return response


def every(k: int, bug: BodyBug) -> BodyBug:
    """``bug`` on every ``k``-th answer it is asked for (calls without a token do not count)."""
    served = itertools.count(1)
    return lambda call, body: bug(call, body) if next(served) % k == 0 else body


def _shift(stamped: str, by: timedelta) -> str:
    return stamp(datetime.fromisoformat(stamped.replace("Z", "+00:00")) + by)


def _lose_owned_orgs(
    status: int = 404, code: str = "NOT_FOUND"
) -> Callable[[Call, Response], Response]:
    """Answer every 3rd 200 with ``status`` instead (the first, the kit's own check, stays)."""
    # Counts the answers it would give, not calls: schemathesis' ignored_auth sends two
    # unauthorized calls after each checked one, so "every 3rd call" never lands on a 200.
    served = itertools.count(1)

    def lose(call: Call, response: Response) -> Response:
        if response.status_code == 200 and next(served) % 3 == 0:
            return JSONResponse({"code": code, "message": "Not for you."}, status)
        return response

    return lose


def not_found_for_unknown_orgs(call: Call, response: Response) -> Response:
    """404 ErrorMessage where the server would refuse an org the token does not own (403)."""
    if response.status_code == 403:
        return JSONResponse({"code": "NOT_FOUND", "message": "No such org."}, 404)
    return response


def _drop_pending_every_3rd(call: Call, body: Body) -> Body:
    if call.number % 3:
        return body
    return {name: value for name, value in body.items() if name != "pending_credits"}


@dataclass(frozen=True)
class Broken:
    """One broken server: its API, what it breaks, and the checks that must catch it."""

    name: str
    api: str
    breaks: str
    catches: frozenset[str]
    """The checks whose failure shows this bug; the kit must fail at least one of them."""
    app: Callable[[], ASGIApp]


def _timbal(name: str, breaks: str, catches: set[str], **bugs: Any) -> Broken:
    return Broken(name, "timbal", breaks, frozenset(catches), lambda: timbal_app(**bugs))


def _kenbun(name: str, breaks: str, catches: set[str], **bugs: Any) -> Broken:
    return Broken(name, "kenbun", breaks, frozenset(catches), lambda: kenbun_app(**bugs))


BROKEN: tuple[Broken, ...] = (
    _timbal(
        "sum_off_every_5th_call",
        "used_credits = invoiced + pending + 1 on every 5th call",
        {"timbal_used_is_invoiced_plus_pending"},
        body_bug=lambda c, b: (
            _set(b, used_credits=b["used_credits"] + 1) if c.number % 5 == 0 else b
        ),
    ),
    _timbal(
        "negative_pending_for_ids_with_a_digit",
        "pending_credits negative (and used adjusted to match) for org ids containing a digit",
        {"timbal_credits_not_negative", "response_schema_conformance"},
        body_bug=lambda c, b: (
            _set(b, pending_credits=-5, used_credits=b["invoiced_credits"] - 5)
            if any(ch.isdigit() for ch in c.org_id or "")
            else b
        ),
    ),
    _timbal(
        "period_end_null_in_second_half",
        "period_end null while period_start is set, in the second half of the period",
        {"timbal_period_bounds"},
        body_bug=lambda c, b: (
            _set(b, period_start="2026-03-14T00:00:00Z", period_end=None) if c.second_half else b
        ),
    ),
    _timbal(
        "period_reversed_on_odd_calls",
        "period_start after period_end on odd calls",
        {"timbal_period_bounds"},
        body_bug=lambda c, b: (
            _set(b, period_start="2026-04-14T00:00:00Z", period_end="2026-03-14T00:00:00Z")
            if c.number % 2
            else b
        ),
    ),
    _timbal(
        "cap_exceeded",
        "used_credits above cap_credits while enabled",
        {"timbal_cap_not_exceeded"},
        body_bug=lambda c, b: _set(b, enabled=True, cap_credits=b["used_credits"] - 1),
    ),
    _timbal(
        "pending_missing_every_3rd_call",
        "the required pending_credits missing on every 3rd call",
        {"response_schema_conformance"},
        body_bug=_drop_pending_every_3rd,
    ),
    _timbal(
        "fractional_rate",
        "rate_cents_per_1k a fraction (12.5)",
        {"timbal_credits_not_negative", "response_schema_conformance"},
        body_bug=lambda c, b: _set(b, rate_cents_per_1k=12.5),
    ),
    _timbal(
        "any_org_readable",
        "200 for an org the token does not own",
        {"owned_orgs_only"},
        response_bug=_owned_by_everyone,
    ),
    _timbal(
        "no_token_gets_200",
        "200 to a request without an Authorization header",
        {"credential_required", "ignored_auth"},
        response_bug=_ok_without_token,
    ),
    _timbal(
        "text_plain_on_403",
        "403 answered as text/plain instead of the documented application/json ErrorMessage",
        {"content_type_conformance"},
        response_bug=_text_on_403,
    ),
    _timbal(
        "no_token_gets_400",
        "400 (neither a documented status nor a refusal of the token) without a token",
        {"credential_required", "status_code_conformance"},
        response_bug=_bad_request_without_token,
    ),
    _timbal(
        "credits_reset_every_3rd_call",
        "used, invoiced and pending credits back to 0 on every 3rd call within the same period",
        {"timbal_credits_never_go_down"},
        body_bug=every(
            3, lambda c, b: _set(b, used_credits=0, invoiced_credits=0, pending_credits=0)
        ),
    ),
    _timbal(
        "invoice_undone_every_2nd_call",
        "invoiced_credits back to 0 on every 2nd answer (pending grows to keep used)",
        {"timbal_credits_never_go_down"},
        body_bug=every(
            2, lambda c, b: _set(b, invoiced_credits=0, pending_credits=b["used_credits"])
        ),
    ),
    _timbal(
        "period_next_month",
        "a period that starts next month, so it does not contain the request",
        {"timbal_period_contains_now"},
        body_bug=lambda c, b: (
            _set(
                b,
                period_start=b["period_end"],
                period_end=_shift(b["period_end"], timedelta(days=31)),
            )
            if b["period_start"]
            else b
        ),
    ),
    _timbal(
        "period_end_moves",
        "period_end a few seconds later on every call, period_start unchanged",
        {"timbal_periods_same_or_apart"},
        body_bug=lambda c, b: (
            _set(b, period_end=_shift(b["period_end"], timedelta(seconds=c.number)))
            if b["period_end"]
            else b
        ),
    ),
    _timbal(
        "server_error_on_long_ids",
        "500 with an HTML page for org ids longer than 255 characters",
        {"not_a_server_error"},
        response_bug=_crash_on_long_ids,
    ),
    _timbal(
        "not_found_for_an_owned_org",
        "404 for an org the token owns, on every 3rd answer",
        {"status_code_conformance"},
        response_bug=_lose_owned_orgs(),
    ),
    Broken(
        "forbidden_for_an_owned_org",
        "timbal",
        "403 (documented, but not for the token's own org) on every 3rd answer",
        frozenset({"known_orgs_answer"}),
        lambda: timbal_app(response_bug=_lose_owned_orgs(403, "FORBIDDEN")),
    ),
    Broken(
        "refuses_its_own_token",
        "kenbun",
        "401 (documented, but not for a valid token) on every 3rd answer",
        frozenset({"known_orgs_answer"}),
        lambda: kenbun_app(response_bug=_lose_owned_orgs(401, "UNAUTHORIZED")),
    ),
    _kenbun(
        "overage_true_at_the_limit",
        "overage true when monthly_events equals free_tier_limit",
        {"kenbun_overage_flag"},
        body_bug=lambda c, b: _set(b, overage=b["monthly_events"] >= b["free_tier_limit"]),
    ),
    _kenbun(
        "trial_ends_at_while_active",
        "trial_ends_at set while subscription_status is active",
        {"kenbun_trial_only_when_trialing"},
        body_bug=lambda c, b: (
            _set(b, trial_ends_at="2026-04-01T00:00:00Z")
            if b["subscription_status"] == "active"
            else b
        ),
    ),
    _kenbun(
        "empty_cycle_in_second_half",
        "billing_cycle_start equal to billing_cycle_end in the second half of the period",
        {"kenbun_cycle_order"},
        body_bug=lambda c, b: (
            _set(b, billing_cycle_end=b["billing_cycle_start"]) if c.second_half else b
        ),
    ),
    _kenbun(
        "undocumented_status_every_4th_call",
        "subscription_status 'paused' (not one of the seven) on every 4th call",
        {"kenbun_status_documented", "response_schema_conformance"},
        body_bug=lambda c, b: (
            _set(b, subscription_status="paused", trial_ends_at=None) if c.number % 4 == 0 else b
        ),
    ),
    _kenbun(
        "overage_unit_zero",
        "overage_unit 0 (it must be at least 1)",
        {"kenbun_counts_not_negative", "response_schema_conformance"},
        body_bug=lambda c, b: _set(b, overage_unit=0),
    ),
    _kenbun(
        "negative_events_every_7th_call",
        "monthly_events negative on every 7th call",
        {"kenbun_counts_not_negative", "response_schema_conformance"},
        body_bug=lambda c, b: _set(b, monthly_events=-1, overage=False) if c.number % 7 == 0 else b,
    ),
    _kenbun(
        "invalid_token_gets_200",
        "200 for any bearer token, valid or not",
        {"credential_required", "ignored_auth"},
        response_bug=_ok_for_any_token,
    ),
    _kenbun(
        "events_down_every_3rd_call",
        "monthly_events back to 10 on every 3rd call within the same cycle",
        {"kenbun_events_never_go_down"},
        body_bug=every(3, lambda c, b: _set(b, monthly_events=10, overage=False)),
    ),
    _kenbun(
        "cycle_a_year_ago",
        "a billing cycle a year before the request",
        {"kenbun_cycle_contains_now"},
        body_bug=lambda c, b: _set(
            b,
            billing_cycle_start=_shift(b["billing_cycle_start"], -timedelta(days=365)),
            billing_cycle_end=_shift(b["billing_cycle_end"], -timedelta(days=365)),
        ),
    ),
    _kenbun(
        "org_id_alternates",
        "org_id alternating between two orgs for one token",
        {"kenbun_org_stays_the_same"},
        body_bug=lambda c, b: _set(b, org_id=f"org_{c.number % 2}"),
    ),
    _kenbun(
        "cycle_end_moves",
        "billing_cycle_end a second later on every call, billing_cycle_start unchanged",
        {"kenbun_cycles_same_or_apart"},
        body_bug=lambda c, b: _set(
            b, billing_cycle_end=_shift(b["billing_cycle_end"], -timedelta(seconds=c.number))
        ),
    ),
    _kenbun(
        "trial_ended_yesterday",
        "trialing with a trial_ends_at of yesterday",
        {"kenbun_trial_end_not_past"},
        body_bug=lambda c, b: (
            _set(b, trial_ends_at=stamp(c.now - timedelta(days=1)))
            if b["subscription_status"] == "trialing"
            else b
        ),
    ),
    _kenbun(
        "us_dates",
        "billing_cycle_start as an American date, not ISO 8601",
        {"kenbun_timestamps_iso8601"},
        body_bug=lambda c, b: _set(b, billing_cycle_start=c.now.strftime("%m/%d/%Y")),
    ),
    _kenbun(
        "string_events",
        "monthly_events as a JSON string",
        {"response_schema_conformance"},
        body_bug=lambda c, b: _set(b, monthly_events=str(b["monthly_events"])),
    ),
)


def altered(
    app: Any,
    *,
    body: Callable[[Body], Body] | None = None,
    refusal: Callable[[int, bytes], Response] | None = None,
) -> Any:
    """``app`` with its 200 bodies passed through ``body`` and its 401s remade by ``refusal``."""

    async def changed(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        answer: dict[str, Any] = {"body": b""}

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                answer["status"], answer["headers"] = message["status"], message["headers"]
            else:
                answer["body"] += message.get("body", b"")

        await app(scope, receive, keep)
        status, content = answer["status"], answer["body"]
        if status == 200 and body is not None:
            response = Response(
                json.dumps(body(json.loads(content))), 200, None, "application/json"
            )
        elif status == 401 and refusal is not None:
            response = refusal(status, content)
        else:
            response = Response(
                content, status, {k.decode(): v.decode() for k, v in answer["headers"]}
            )
        await response(scope, receive, send)

    return changed
