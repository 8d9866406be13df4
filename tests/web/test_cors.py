"""The public APIs' CORS answers exactly as starlette's CORSMiddleware with the same policy."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from usagemock.web.cors import OpenCORS

HEADER_NAMES = [b"vary", b"content-type", b"x-usagemock-auth", b"access-control-allow-origin"]
HEADER_VALUES = [b"Accept", b"Origin", b"application/json", b"*", b"", b"open"]


def _inner(headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def _run(middleware: Any, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent


@settings(max_examples=200)
@given(
    method=st.sampled_from(["GET", "OPTIONS", "POST"]),
    request_headers=st.lists(
        st.tuples(
            st.sampled_from([b"origin", b"access-control-request-method", b"accept"]),
            st.sampled_from([b"http://localhost:3000", b"GET", b"", b"null"]),
        ),
        max_size=3,
    ),
    response_headers=st.lists(
        st.tuples(st.sampled_from(HEADER_NAMES), st.sampled_from(HEADER_VALUES)), max_size=4
    ),
)
def test_open_cors_sends_what_starlettes_middleware_sends(
    method: str,
    request_headers: list[tuple[bytes, bytes]],
    response_headers: list[tuple[bytes, bytes]],
) -> None:
    """Status, headers (order included) and body match starlette's for any request."""
    scope = {"type": "http", "method": method, "headers": request_headers, "path": "/usage"}
    ours = _run(OpenCORS(_inner(response_headers)), dict(scope))
    starlettes = CORSMiddleware(
        _inner(response_headers),
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["*"],
    )
    assert ours == _run(starlettes, dict(scope))
