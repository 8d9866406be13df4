"""Path segments that contain an encoded slash (``org%2Fslash``) still reach their operation.

ASGI servers hand over the path already decoded, so ``/orgs/org%2Fslash/billing/overage``
arrives as ``/orgs/org/slash/billing/overage``, matches no route, and gets a 404 the specs do
not document, though an org id is any string. :class:`KeepEncodedSlashes` rebuilds the path from
``raw_path`` with each encoded slash held as a character the decoded path does not contain (a
private-use one), and notes that character in the request's scope; :func:`restore` turns it back
into ``/`` in the parameter the handler receives. Since the held character appears nowhere else,
every org id round-trips exactly, whatever characters it has.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

HELD_KEY = "usagemock.held_slash"
"""The scope key naming the character that holds ``%2F`` in this request's path."""
_ENCODED_SLASH = re.compile("%2f", re.IGNORECASE)


def restore(segment: str, scope: Mapping[str, Any]) -> str:
    """The path parameter as the client meant it, encoded slashes back as ``/``, in ``scope``."""
    held = scope.get(HELD_KEY)
    return segment if held is None else segment.replace(held, "/")


def _unused(parts: list[str]) -> str:
    """A character in none of ``parts``: the first private-use one free (then any beyond)."""
    used = set().union(*parts)
    return next(c for c in map(chr, itertools.count(0xE000)) if c not in used and c != "/")


class KeepEncodedSlashes:
    """ASGI middleware: route on the raw path when it holds an encoded slash."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite ``path`` for requests whose raw path has ``%2F``; pass everything on."""
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and b"%2f" in raw.lower():
            text = raw.decode("latin-1").split("?", 1)[0]
            parts = [unquote(part) for part in _ENCODED_SLASH.split(text)]
            held = _unused(parts)
            scope = {**scope, "path": held.join(parts), HELD_KEY: held}
        await self.app(scope, receive, send)
