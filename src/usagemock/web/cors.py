"""Open CORS for the public APIs: starlette's middleware, with a short way for plain requests.

A frontend dev server on another port calls the mock from the browser: without CORS the browser
blocks it, and "only change the base URL" would not be true. Most requests (curl, test tools,
server-side code, a load test) send no ``Origin``; for them starlette's middleware only adds
``Vary: Origin`` to the response, yet builds header objects twice to do it (a tenth of a fast
request's CPU, issue 15). :class:`OpenCORS` does that one change on the raw header list, and
leaves every request with an ``Origin`` to starlette; ``tests/web/test_cors.py`` holds both to
the same response headers.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_VARY = b"vary"


class OpenCORS(CORSMiddleware):
    """CORS for any origin, methods and headers, exposing every response header."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(
            app, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"], expose_headers=["*"]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Requests without ``Origin`` get ``Vary: Origin`` added; the rest go to starlette."""
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _vary_on_origin(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_varying)


def _vary_on_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``Vary`` extended by ``Origin``, as starlette's ``MutableHeaders`` sets it.

    One ``Vary`` whose value joins every earlier one and ``Origin``, in the place of the first
    (the others removed), or appended when there was none.
    """
    found = [index for index, (name, _) in enumerate(headers) if name == _VARY]
    value = ", ".join([*(headers[i][1].decode("latin-1") for i in found), "Origin"])
    if not found:
        return [*headers, (_VARY, value.encode("latin-1"))]
    kept = [header for index, header in enumerate(headers) if index not in found[1:]]
    kept[found[0]] = (_VARY, value.encode("latin-1"))
    return kept
