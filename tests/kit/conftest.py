"""Kit fixtures: run the kit in-process, and serve an ASGI app on a real loopback port."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn

from tests.kit.broken_servers import OWNED, TOKEN
from usagemock.kit import Event, Plan, RunFinished, Target, run
from usagemock.testing import free_port, wait_until

FAST_EXAMPLES = 25  # generated cases per phase in tests: enough for every bug in the family


def run_kit(api: str, app: Any, seed: int = 1, **plan: Any) -> list[Event]:
    """Every event of one in-process kit run of ``api`` against ``app``."""
    plan.setdefault("org_ids", OWNED if api == "timbal" else ())
    plan.setdefault("max_examples", FAST_EXAMPLES)
    plan.setdefault("token", TOKEN)
    return list(run(Plan(api=api, target=Target.in_process(app), seed=seed, **plan)))


def finished(events: list[Event]) -> RunFinished:
    """The RunFinished event of a run."""
    last = events[-1]
    assert isinstance(last, RunFinished), f"usagemock kit: run ended with {last!r}"
    return last


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Serve ASGI apps with uvicorn on free loopback ports; each stops when the test ends.

    Keyword arguments go to ``uvicorn.Config`` (``http="h11"`` picks the HTTP parser,
    ``server_header=False`` leaves the Server header out).
    """
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any, **options: Any) -> str:
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", **options)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started = wait_until(lambda: server.started, timeout=10, alive=thread.is_alive)
        assert started, "uvicorn did not start within 10 s"
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, _ in servers:  # all at once: each takes a tick of its loop to notice
        server.should_exit = True
    for _, thread in servers:
        thread.join(timeout=10)
