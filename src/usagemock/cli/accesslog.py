"""The access log: uvicorn's line, for a fraction of what logging it costs.

Logging one line through uvicorn's access logger costs about 15 us (a ``LogRecord``, the
logging module's locks and look-ups, uvicorn's formatter copying the record), a tenth of a
request's CPU under load (issue 15). When the log goes to a file or a pipe, :class:`AccessLog`
makes the same line from the ASGI side instead, when the response starts, as uvicorn does, and
writes and flushes a turn of the event loop's lines at once rather than each line; on a terminal
uvicorn's own logger keeps writing it, in colour, with :class:`AccessLine`, which builds the
plain line in one step when colours are off.
"""

from __future__ import annotations

import asyncio
import functools
import http
import logging
from typing import Any, TextIO, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.logging import AccessFormatter
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

_PREFIX = "INFO:    "  # uvicorn's "%(levelprefix)s" for INFO, the level of its access lines


@functools.cache
def _status(code: int) -> str:
    """``200 OK``: the code and its reason phrase (the code alone when it has none)."""
    try:
        return f"{code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} "


def access_line(
    prefix: str, client: object, method: object, path: object, version: object, status: int
) -> str:
    """``INFO:     127.0.0.1:51388 - "GET /usage HTTP/1.1" 200 OK``, as uvicorn writes it."""
    return f'{prefix} {client} - "{method} {path} HTTP/{version}" {_status(status)}'


class AccessLine(AccessFormatter):
    """uvicorn's access format (``%(levelprefix)s %(client_addr)s - "%(request_line)s" ...``)."""

    def format(self, record: logging.LogRecord) -> str:
        """One request's line: ``INFO:     127.0.0.1:51388 - "GET /usage HTTP/1.1" 200 OK``."""
        if self.use_colors:
            return str(super().format(record))
        client, method, path, version, status = record.args  # type: ignore[misc]
        prefix = record.levelname + ":" + " " * (8 - len(record.levelname))
        return access_line(prefix, client, method, path, version, cast(int, status))


class AccessLog:
    """ASGI middleware: one line per HTTP request on ``stream``, when its response starts."""

    def __init__(self, app: ASGIApp, stream: TextIO) -> None:
        self._app = app
        self._stream = stream
        self._pending: list[str] = []

    def _write(self, line: str) -> None:
        """Write ``line`` once the event loop has run what is ready now.

        Lines of one turn of the loop (many, under load) go out in one write and one flush
        instead of one each, and every line still shows as soon as its turn is over. They are
        joined here rather than left to the stream's buffer: with PYTHONUNBUFFERED set, as in
        many container images, stdout writes each ``write()`` through at once (14 us a line).
        """
        self._pending.append(line)
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        lines, self._pending = self._pending, []
        self._stream.write("".join(lines))
        self._stream.flush()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; write its line as the response's status goes out."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                line = access_line(
                    _PREFIX,
                    get_client_addr(cast(Any, scope)),
                    scope["method"],
                    get_path_with_query_string(cast(Any, scope)),
                    scope["http_version"],
                    message["status"],
                )
                self._write(line + "\n")
            await send(message)

        await self._app(scope, receive, send_logged)
