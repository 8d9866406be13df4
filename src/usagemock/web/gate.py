"""The admin API's front door: who may use it, and what reaches connexion (raw ASGI).

Holders of the admin token may, or anyone on loopback when there is none. The gate also makes
the two answers connexion gets wrong for the admin API (see :class:`AdminGate`).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usagemock.error_bodies import problem_details
from usagemock.specs import load_bundled
from usagemock.web.auth import NotOneCredential, challenge, credentials
from usagemock.web.errors import send_error

PREFIX = "/_usagemock"
"""Where the admin API is mounted."""

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
    """Whether ``path`` is the admin API's docs (Swagger UI, openapi.json), open to everyone."""
    return path.startswith(f"{PREFIX}/ui") or path == f"{PREFIX}/openapi.json"


class AdminGate:
    """ASGI middleware in front of the admin API: who may use it, and what reaches it.

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
            await send_error(send, status, detail, problem_details, extra)
            return
        allowed = next((m for pattern, m in self.routes if pattern.fullmatch(path)), None)
        if allowed is not None and scope["method"] not in allowed:
            allow = ", ".join(sorted(allowed))
            detail = f"{scope['method']} is not an operation of {path}; it takes {allow}."
            await send_error(send, 405, detail, problem_details, [(b"allow", allow.encode())])
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
            await send_error(send, 400, detail, problem_details, [])
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
