"""The composed app: request targets that are not a path still get a JSON answer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from usagemock.settings import Settings
from usagemock.web.app import create_app


async def asgi_request(app: Any, method: str, target: str) -> tuple[int, dict[str, Any]]:
    """Send one raw ASGI request (any target, even ``*``); the status and the JSON body."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": target,
        "raw_path": target.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"mock")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body)


@pytest.mark.parametrize("api", ["all", "kenbun", "timbal"])
@pytest.mark.parametrize("method", ["OPTIONS", "GET"])
async def test_asterisk_request_target_gets_a_json_404(api: str, method: str) -> None:
    """``OPTIONS *`` and ``GET *`` name no resource of the mock: a JSON 404, not a 500."""
    app = create_app(Settings(state=":memory:", api=api), real_clock=lambda: FIXED_NOW)
    status, body = await asgi_request(app, method, "*")
    assert status == 404, body
    assert body.get("message") or body.get("detail")
