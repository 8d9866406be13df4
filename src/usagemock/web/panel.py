"""The control panel (``/_usagemock/panel/``): a page that drives the mock through the admin API.

The page's actions (scenario, faults, ingest, reset, the clock) are htmx requests to the admin
API itself, so the panel can do nothing the admin API cannot. What it shows comes from small
HTML fragments rendered here from the same engine calls the admin API makes, plus the admin
API's chart JSON and a server-sent event stream of the request log. The page and its static
files are as open as the admin docs (they hold no data); the fragments and the stream sit
behind the admin gate and origin guard like every admin operation, and the page sends the
admin token, when one is set, the way Swagger UI does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usagemock.apis import definition
from usagemock.domain.overview import Headline
from usagemock.domain.records import OrgRecord
from usagemock.endless import ENDLESS
from usagemock.error_bodies import problem_details
from usagemock.web.errors import send_error
from usagemock.web.gate import PANEL, PREFIX
from usagemock.web.handlers import MockContext, body_now
from usagemock.web.requests import LoggedRequest, RequestLog

ROOT = PANEL
LISTED = 100  # org rows the list shows; search narrows it
HEARTBEAT_SECONDS = 15.0  # a comment line this often, so a dead viewer's stream is noticed
_FILES = Path(str(files("usagemock.web") / "panel"))
# No other site may frame the panel: its buttons are same-origin requests, which the admin
# origin guard lets through, so a framing page could trick a click on one (clickjacking).
_UNFRAMED = (
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
)


class _BadQuery(Exception):
    """A fragment's query is missing or wrong; the message says which and what to send."""


class Panel:
    """The panel's page, fragments and request stream, in front of the admin API's app."""

    def __init__(
        self,
        admin: ASGIApp,
        ctx: MockContext,
        log: RequestLog,
        *,
        apis: Sequence[str],
        token_needed: bool,
    ) -> None:
        self.admin, self.ctx, self.log = admin, ctx, log
        self.apis = tuple(apis)
        self.token_needed = token_needed
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_FILES / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,  # a missing value is a bug, not an empty cell
        )
        self.templates.filters["segment"] = lambda text: quote(text, safe="")
        self.templates.filters["pretty"] = lambda data: json.dumps(data, indent=2)
        self.router = Router(
            routes=[
                Route(f"{ROOT}/", self.page),
                Route(f"{ROOT}/orgs", self.orgs),
                Route(f"{ROOT}/org", self.org),
                Route(f"{ROOT}/org/state", self.org_state),
                Route(f"{ROOT}/clock", self.clock),
                Route(f"{ROOT}/requests", self.requests),
                Mount(f"{ROOT}/static", StaticFiles(directory=_FILES / "static")),
            ],
            redirect_slashes=True,
            default=_not_found,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The panel's paths here; everything else to the admin API."""
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == ROOT or path.startswith(f"{ROOT}/")):
            await self.admin(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            detail = f"{scope['method']} is not an operation of {path}; the panel only reads."
            await send_error(send, 405, detail, problem_details, [(b"allow", b"GET, HEAD")])
            return

        async def send_unframed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *_UNFRAMED]}
            await send(message)

        try:
            await self.router(scope, receive, send_unframed)
        except _BadQuery as exc:
            await send_error(send_unframed, 400, str(exc), problem_details)
        except HTTPException as exc:
            # StaticFiles raises its 404 (a file it lacks, a folder), and a bare Router has no
            # handler for it: it would leave as a 500 with a traceback.
            if exc.status_code != 404:
                raise
            await _not_found(scope, receive, send_unframed)

    def _render(self, template: str, **values: Any) -> HTMLResponse:
        return HTMLResponse(self.templates.get_template(template).render(**values))

    async def page(self, request: Request) -> Response:
        """The panel's page: layout, clock controls and the places fragments go."""
        return self._render(
            "page.html", root=ROOT, admin=PREFIX, apis=self.apis, token_needed=self.token_needed
        )

    async def orgs(self, request: Request) -> Response:
        """The org list: orgs the store holds and orgs requests named, each in one line."""
        engine = self.ctx.engine
        wanted = request.query_params.get("q", "").strip().lower()
        listed = list(dict.fromkeys([*self.log.seen(), *engine.orgs()]))
        matching = [(api, org) for api, org in listed if wanted in org.lower()]
        now = engine.now()
        rows: list[tuple[str, str, Headline | None]] = []
        for api, org_id in matching[:LISTED]:
            # The state may hold orgs of an API this server does not serve (another program's
            # own API): listed, not read, since only a server that has the API can read them.
            served = api in self.apis
            line = _headline(engine.record(api, org_id), now) if served else None
            rows.append((api, org_id, line))
        return self._render(
            "orgs.html", root=ROOT, rows=rows, more=len(matching) - len(rows), wanted=wanted
        )

    def _org_query(self, request: Request) -> tuple[str, str]:
        """The ``api`` and ``id`` a fragment is asked for, checked."""
        api, org_id = request.query_params.get("api", ""), request.query_params.get("id", "")
        if api not in self.apis:
            raise _BadQuery(f"api must be one of {', '.join(self.apis)} (got {api!r}).")
        if not 1 <= len(org_id) <= 200:
            raise _BadQuery("id must be an org id of 1 to 200 characters.")
        return api, org_id

    async def org(self, request: Request) -> Response:
        """One org's controls: scenario, faults, ingest, reset; its state and chart load inside."""
        api, org_id = self._org_query(request)
        record = self.ctx.engine.record(api, org_id)
        scenarios = sorted(s.name for s in self.ctx.engine.scenarios.values() if api in s.sections)
        return self._render(
            "org.html",
            root=ROOT,
            admin=PREFIX,
            api=api,
            org_id=org_id,
            current=record.scenario,
            ingest_unit=definition(api).overview.ingest_unit,
            scenarios=scenarios,
            statuses=sorted(s for s in self.ctx.statuses[api] if s >= 400),
        )

    async def org_state(self, request: Request) -> Response:
        """One org now: its scenario, fault, whether it changed, and its API's answer."""
        api, org_id = self._org_query(request)
        engine = self.ctx.engine
        record, now = engine.answering(api, org_id)
        return self._render(
            "org_state.html",
            record=record,
            changed=engine.is_stored(api, org_id),
            headline=_headline(record, now),
            answer=body_now(record, now),
        )

    async def clock(self, request: Request) -> Response:
        """The clock: the moment it shows, frozen or running."""
        clock = self.ctx.engine.clock()
        return self._render("clock.html", now=self.ctx.engine.shows(clock), clock=clock)

    async def requests(self, request: Request) -> Response:
        """The request log as server-sent events: the kept entries, then each new one."""
        request.scope.setdefault("state", {})[ENDLESS] = True  # the server ends it at shutdown
        return StreamingResponse(
            self._events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _events(self) -> AsyncIterator[str]:
        async with self.log.watch() as queue:
            for entry in self.log.recent():
                yield _event(entry)
            while True:
                try:
                    entry = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": still here\n\n"
                    continue
                yield _event(entry)


def _headline(record: OrgRecord, now: datetime) -> Headline:
    """The org's state in one line, as its API's overview puts it."""
    return definition(record.api).overview.headline(record.account, now, record.ingests)


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    detail = f"The panel has no page {scope['path']!r}; open {ROOT}/."
    await send_error(send, 404, detail, problem_details)


def _event(entry: LoggedRequest) -> str:
    return f"event: request\ndata: {json.dumps(entry.to_json())}\n\n"
