"""The access log line is uvicorn's, byte for byte, built more cheaply."""

from __future__ import annotations

import logging

from hypothesis import given
from hypothesis import strategies as st
from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter

from usagemock.cli.accesslog import AccessLine

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
