"""Path segments that contain an encoded slash (``org%2Fslash``) still reach their operation.

ASGI servers hand over the path already decoded, so ``/orgs/org%2Fslash/billing/overage``
arrives as ``/orgs/org/slash/billing/overage``, matches no route, and gets a 404 the specs do
not document, though an org id is any string. :class:`KeepEncodedSlashes` rebuilds the path from
``raw_path`` with each encoded slash held as a private-use character, and :func:`restore` turns
it back into ``/`` in the parameter the handler receives.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

_HELD = "\ue000"  # a private-use character: never part of a real identifier
_ENCODED_SLASH = re.compile("%2f", re.IGNORECASE)


def restore(segment: str) -> str:
    """The path parameter as the client meant it, encoded slashes back as ``/``."""
    return segment.replace(_HELD, "/")


class KeepEncodedSlashes:
    """ASGI middleware: route on the raw path when it holds an encoded slash."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite ``path`` for requests whose raw path has ``%2F``; pass everything on."""
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and b"%2f" in raw.lower():
            text = raw.decode("latin-1").split("?", 1)[0]
            path = _HELD.join(unquote(part) for part in _ENCODED_SLASH.split(text))
            scope = {**scope, "path": path}
        await self.app(scope, receive, send)
