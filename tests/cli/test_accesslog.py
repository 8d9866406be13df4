"""The access log line is uvicorn's, byte for byte, however it is written."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send
from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from usagemock.cli.accesslog import AccessLine, AccessLog

FORMAT = LOGGING_CONFIG["formatters"]["access"]["fmt"]


def _record(level: int, args: tuple[object, ...]) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access", level, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )


@given(
    level=st.sampled_from([logging.INFO, logging.WARNING, logging.DEBUG]),
    client=st.sampled_from(["127.0.0.1:51388", "[::1]:80", "-"]),
    method=st.sampled_from(["GET", "POST", "OPTIONS"]),
    path=st.text(max_size=40),
    version=st.sampled_from(["1.0", "1.1"]),
    status=st.integers(100, 599),
)
def test_access_line_matches_uvicorns_formatter(
    level: int, client: str, method: str, path: str, version: str, status: int
) -> None:
    """Without colours, AccessLine writes exactly what uvicorn's AccessFormatter writes."""
    args = (client, method, path, version, status)
    ours = AccessLine(fmt=FORMAT, use_colors=False).format(_record(level, args))
    uvicorns = AccessFormatter(fmt=FORMAT, use_colors=False).format(_record(level, args))
    assert ours == uvicorns


def test_access_line_keeps_uvicorns_colours_on_a_terminal() -> None:
    """With colours on, the line is uvicorn's own, colours and all."""
    args = ("127.0.0.1:1", "GET", "/usage", "1.1", 200)
    ours = AccessLine(fmt=FORMAT, use_colors=True).format(_record(logging.INFO, args))
    uvicorns = AccessFormatter(fmt=FORMAT, use_colors=True).format(_record(logging.INFO, args))
    assert ours == uvicorns


@given(
    client=st.one_of(
        st.none(), st.tuples(st.sampled_from(["127.0.0.1", "::1"]), st.integers(1, 65535))
    ),
    method=st.sampled_from(["GET", "POST", "OPTIONS"]),
    path=st.text(min_size=1, max_size=30).map(lambda text: "/" + text),
    query=st.sampled_from([b"", b"x=1", b"a=b&c=%20"]),
    version=st.sampled_from(["1.0", "1.1"]),
    status=st.integers(100, 599),
)
def test_access_log_middleware_writes_uvicorns_line(
    client: tuple[str, int] | None,
    method: str,
    path: str,
    query: bytes,
    version: str,
    status: int,
) -> None:
    """AccessLog writes, for one request, the line uvicorn's access logger writes for it."""
    scope: Any = {"type": "http", "method": method, "path": path, "query_string": query}
    scope.update(http_version=version, client=client, headers=[])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def ignore(message: Message) -> None:
        pass

    stream = io.StringIO()
    asyncio.run(AccessLog(app, stream)(scope, _no_body, ignore))
    args = (get_client_addr(scope), method, get_path_with_query_string(scope), version, status)
    uvicorns = AccessFormatter(fmt=FORMAT, use_colors=False).format(_record(logging.INFO, args))
    assert stream.getvalue() == uvicorns + "\n"


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class _Flushes(io.StringIO):
    """A stream that counts its writes, its flushes and what was written by each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.flushed: list[str] = []

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def flush(self) -> None:
        self.flushed.append(self.getvalue())


def test_lines_of_one_loop_turn_go_out_in_one_write_and_flush_at_its_end() -> None:
    """Concurrent requests' lines are flushed together, once the turn that wrote them is over."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def ignore(message: Message) -> None:
        pass

    stream = _Flushes()
    log = AccessLog(app, stream)
    scope = {"type": "http", "method": "GET", "path": "/usage", "query_string": b""}
    scope.update(http_version="1.1", client=("127.0.0.1", 1), headers=[])

    async def three_requests() -> None:
        await asyncio.gather(*(log(dict(scope), _no_body, ignore) for _ in range(3)))

    asyncio.run(three_requests())
    assert len(stream.flushed) == 1, "one flush for the turn, not one per line"
    assert stream.flushed[0].count("\n") == 3, "after all three lines"
    # One write too: a stream that writes through (PYTHONUNBUFFERED) makes each a system call.
    assert stream.writes == 1
