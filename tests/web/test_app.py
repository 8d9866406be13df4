"""The composed app: request targets that are not a path still get a JSON answer."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.conftest import FIXED_NOW, bearer, in_process_client
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


@pytest.mark.parametrize(
    "path", ["/kenbun/usage", "/timbal/orgs/org_a/billing/overage", "/_usagemock/orgs"]
)
async def test_an_undeclared_query_parameter_is_ignored_without_an_error_line(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``?utm=x`` is answered as without it, and nothing is logged at ERROR for it."""
    caplog.set_level(logging.DEBUG)
    async with in_process_client() as client:
        plain = await client.get(path, headers=bearer("t"))
        odd = await client.get(f"{path}?utm=x&utm=y", headers=bearer("t"))
    assert odd.status_code == plain.status_code == 200, odd.text
    assert odd.content == plain.content
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
