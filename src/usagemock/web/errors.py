"""Every error leaves in the error body its API documents, through one path per API.

connexion raises problems for auth (401), validation (400), routing (404, 405) and response
checks (500); handlers raise :class:`connexion.ProblemException` for 403 and 400. The handlers
registered here turn each into the API's documented body, rendered by the API's definition
(``error_body``; the formats are in :mod:`usagemock.error_bodies`). Nothing goes out as HTML or
with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.types import Send

from usagemock.error_bodies import Renderer, phrase
from usagemock.errors import StateUnavailable
from usagemock.web.auth import challenge

logger = logging.getLogger("usagemock")


class InjectedFault(ProblemException):  # type: ignore[misc]
    """An error response a scenario, a fault or ``Prefer: code=`` asked for: not logged as one."""


async def send_error(
    send: Send,
    status: int,
    detail: str,
    render: Renderer,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer from ASGI middleware (outside connexion's error path) in ``render``'s body."""
    body, mimetype = render(status, detail)
    head = [(b"content-type", mimetype.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*head, *headers]})
    await send({"type": "http.response.body", "body": body})


def _detail(exc: Exception, status: int) -> str:
    detail = getattr(exc, "detail", None)
    if not detail or detail == phrase(status).phrase:
        return _HINTS.get(status, phrase(status).description or phrase(status).phrase)
    return str(detail)


_HINTS = {
    401: "Missing or invalid bearer token: send 'Authorization: Bearer <token>'.",
    404: "No such path in this API; its openapi.json and ui/ list the paths it serves.",
    405: "This path does not accept that method; the Allow header lists those it does.",
}


def install_error_handlers(app: AsyncApp, api: str, render: Renderer) -> None:
    """Make every error ``app`` (the API named ``api``) sends use the body ``render`` makes."""

    def respond(status: int, detail: str, headers: Mapping[str, str] | None) -> ConnexionResponse:
        body, mimetype = render(status, detail)
        kept = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
        return ConnexionResponse(status_code=status, body=body, mimetype=mimetype, headers=kept)

    def on_http_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        status = getattr(exc, "status_code", 500)
        if status >= 500 and not isinstance(exc, InjectedFault):
            logger.error("%s error: %r", api, exc)
        headers = dict(getattr(exc, "headers", None) or {})
        if status == 401:  # RFC 9110 section 11.6.1: a 401 must say how to authenticate
            headers["WWW-Authenticate"] = challenge(api, request.headers.getlist("authorization"))
        return respond(status, _detail(exc, status), headers)

    def on_state_lost(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        # Not the client's mistake and not a bug: the state database is away (restarting).
        # Not logged per request: the store says so once per outage.
        return respond(503, str(exc), {"Retry-After": "1"})

    def on_crash(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        logger.error("%s handler failed", api, exc_info=exc)
        return respond(500, "The mock failed unexpectedly; this is a usagemock bug.", None)

    app.add_error_handler(ProblemException, _sync(on_http_error))
    app.add_error_handler(HTTPException, _sync(on_http_error))
    app.add_error_handler(StateUnavailable, _sync(on_state_lost))
    app.add_error_handler(Exception, _sync(on_crash))


def _sync(handler: Callable[[ConnexionRequest, Exception], ConnexionResponse]) -> Any:
    """Connexion runs sync error handlers in a thread pool; an async wrapper skips that hop."""

    async def run(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return handler(request, exc)

    return run
