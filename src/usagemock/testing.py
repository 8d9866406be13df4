"""Helpers for tests that run servers on loopback: a free port, and waiting until one listens.

The test suite and the pytest plugin (``usagemock_server``) share them. Standard library only,
since the plugin loads with every pytest run.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on right now (the kernel's pick; free until someone binds it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def listening(port: int, host: str = LOOPBACK) -> bool:
    """Whether something accepts connections on ``host:port`` now."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_until(
    ready: Callable[[], bool],
    *,
    timeout: float,
    alive: Callable[[], bool] = lambda: True,
    interval: float = 0.05,
) -> bool:
    """Ask ``ready`` until it says yes (True), the time is up or ``alive`` says no (False).

    ``alive`` is the thing being waited for (a process, a thread): once it is gone, waiting on
    would only burn the timeout.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return True
        if not alive():
            return False
        time.sleep(interval)
    return False


def wait_listening(
    port: int, *, timeout: float, alive: Callable[[], bool] = lambda: True, host: str = LOOPBACK
) -> bool:
    """Wait until something listens on ``host:port``; False when it did not in ``timeout``."""
    return wait_until(lambda: listening(port, host), timeout=timeout, alive=alive)
