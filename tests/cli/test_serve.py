"""``usagemock serve`` starts without garbage collections, leaving the collector as it was."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from usagemock.cli import main
from usagemock.cli.serve import worker_app


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of each garbage collection while the test runs; start-up's frozen undone."""
    seen: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield seen
    finally:
        gc.callbacks.remove(count)
        gc.unfreeze()  # what worker_app froze is this test process's, not a server's


def test_a_worker_starts_without_a_collection_then_collects(
    collections: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building a worker's app runs no garbage collection; what it built is frozen, gc back on."""
    settings = {"api": "kenbun", "state": str(tmp_path / "state.sqlite3"), "seed": "1"}
    handed = {"settings": settings, "register": []}
    monkeypatch.setenv("USAGEMOCK_WORKER_SETTINGS", json.dumps(handed))
    app = worker_app()
    assert callable(app)
    assert collections == []
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


@pytest.mark.parametrize("enabled", [True, False])
def test_a_refused_start_leaves_the_collector_as_it_was(enabled: bool) -> None:
    """Bad input ends the start-up with the collector on if it was on, and off if it was off."""
    if not enabled:
        gc.disable()
    try:
        result = CliRunner().invoke(main, ["serve", "--port", "eighty"])
        assert result.exit_code == 2
        assert "Option --port is 'eighty'" in result.output
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
