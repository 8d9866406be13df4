"""Shared fixtures: the mock in-process (httpx ASGITransport) and a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from usagemock.settings import Settings
from usagemock.web.app import create_app

REPO = Path(__file__).resolve().parents[1]
ACCESS_FIXTURES = REPO / "fixtures" / "access.yaml"
FIXED_NOW = datetime(2026, 3, 17, 14, 30, tzinfo=UTC)

MakeClient = Callable[..., httpx.AsyncClient]


class SettableClock:
    """A clock a test moves by hand, so one app can answer at many moments."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        """The moment the test last set."""
        return self.now


def in_process_client(
    now: datetime | Callable[[], datetime] = FIXED_NOW, **settings: Any
) -> httpx.AsyncClient:
    """An httpx client talking to a fresh mock in-process (state in memory, responses checked).

    ``now`` is the machine's time as the mock sees it: a moment, or a clock the test moves.
    """
    settings.setdefault("validate_responses", True)
    settings.setdefault("state", ":memory:")
    clock = now if callable(now) else (lambda: now)
    app = create_app(Settings(**settings), real_clock=clock)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock")


@pytest.fixture
def make_client() -> MakeClient:
    """Build in-process clients with chosen settings (``api``, ``fixtures``, ``seed``...)."""
    return in_process_client


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}
