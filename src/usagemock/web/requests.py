"""The last requests to the mock APIs, kept in memory for the control panel's live log.

Each worker process keeps its own log (the README says so): entries are a view for a person
watching, not state, so they stay out of the shared store. Tokens never enter an entry whole:
only their masked form (``web/auth.mask``).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usagemock.domain.periods import isoformat
from usagemock.web.auth import mask

KEPT = 200  # entries a new viewer gets at once; older ones are dropped
SEEN = 1000  # orgs remembered as seen, most recent first
QUEUED = 100  # entries a slow viewer may fall behind by before it misses some
_ORG = "usagemock.org"  # where a handler notes the org it answered for, in the request's state


class LoggedRequest(NamedTuple):  # made on every request: a tuple is the cheapest to make
    """One request to a mock API, as the panel shows it."""

    at: datetime
    api: str
    method: str
    path: str
    org_id: str | None
    token: str | None
    """The bearer token, masked."""
    status: int
    duration_ms: float

    def to_json(self) -> dict[str, Any]:
        """The entry as the panel's event stream sends it."""
        return {
            "at": isoformat(self.at),
            "api": self.api,
            "method": self.method,
            "path": self.path,
            "org_id": self.org_id,
            "token": self.token,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 1),
        }


class RequestLog:
    """The last requests of this worker, the orgs they named, and live viewers."""

    def __init__(self) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=KEPT)
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._viewers: set[asyncio.Queue[LoggedRequest]] = set()

    def add(self, entry: LoggedRequest) -> None:
        """Keep ``entry`` and hand it to every viewer (one that is too far behind misses it)."""
        self._entries.append(entry)
        if entry.org_id is not None:
            self._seen[(entry.api, entry.org_id)] = None
            self._seen.move_to_end((entry.api, entry.org_id), last=False)
            while len(self._seen) > SEEN:
                self._seen.popitem()
        for queue in self._viewers:
            if not queue.full():
                queue.put_nowait(entry)

    def recent(self) -> list[LoggedRequest]:
        """The kept entries, oldest first."""
        return list(self._entries)

    def seen(self) -> list[tuple[str, str]]:
        """(api, org_id) of the orgs requests named, most recent first."""
        return list(self._seen)

    @asynccontextmanager
    async def watch(self) -> AsyncIterator[asyncio.Queue[LoggedRequest]]:
        """A queue that gets every entry added while the context is open."""
        queue: asyncio.Queue[LoggedRequest] = asyncio.Queue(maxsize=QUEUED)
        self._viewers.add(queue)
        try:
            yield queue
        finally:
            self._viewers.discard(queue)


def note_org(scope: Scope, org_id: str) -> None:
    """Say which org this request was answered for (handlers know; the path may not say)."""
    scope.setdefault("state", {})[_ORG] = org_id


class LogRequests:
    """ASGI middleware: add every HTTP request to one API to the log, once it is answered."""

    def __init__(
        self,
        app: ASGIApp,
        api: str,
        log: RequestLog,
        clock: Callable[[], datetime],
        *,
        base_path: str,
    ) -> None:
        self.app, self.api, self.log, self.clock = app, api, log, clock
        self.docs = (f"{base_path}/ui", f"{base_path}/openapi.json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, timing it and keeping its status (not preflights, not docs)."""
        if (
            scope["type"] != "http"
            or scope["method"] == "OPTIONS"
            or scope["path"].startswith(self.docs)
        ):
            await self.app(scope, receive, send)
            return
        at, started = self.clock(), time.perf_counter()
        path = scope["path"]  # read now: the app below may rewrite the scope it was handed
        state = scope.setdefault("state", {})  # shared with the handler's request, which notes
        status = 500  # what the client gets if the app fails before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            self.log.add(
                LoggedRequest(
                    at=at,
                    api=self.api,
                    method=scope["method"],
                    path=path,
                    org_id=state.get(_ORG),
                    token=_masked_token(scope),
                    status=status,
                    duration_ms=(time.perf_counter() - started) * 1000,
                )
            )


def _masked_token(scope: Scope) -> str | None:
    """The first Authorization header's credential, masked (shown, not judged: auth does that)."""
    for name, value in scope["headers"]:
        if name == b"authorization":  # ASGI servers hand header names over in lower case
            parts = value.decode("latin-1").split(None, 1)
            return mask(parts[1].strip()) if len(parts) == 2 else None
    return None
