"""The loopback helpers the tests and the pytest plugin share: a free port, waiting to listen."""

from __future__ import annotations

import socket
import threading
import time

from usagemock.testing import free_port, listening, wait_listening, wait_until


def test_a_free_port_can_be_bound_and_nothing_listens_on_it() -> None:
    """The port handed out is free: nothing answers there, and a server may bind it."""
    port = free_port()
    assert not listening(port)
    with socket.create_server(("127.0.0.1", port)):
        assert listening(port)


def test_waiting_returns_once_a_server_starts_listening() -> None:
    """A server that starts a moment later is waited for, not given up on."""
    port = free_port()
    server = socket.socket()

    def start_later() -> None:
        time.sleep(0.2)
        server.bind(("127.0.0.1", port))
        server.listen()

    thread = threading.Thread(target=start_later)
    thread.start()
    try:
        assert wait_listening(port, timeout=10)
    finally:
        thread.join()
        server.close()


def test_waiting_gives_up_at_once_when_the_server_is_gone() -> None:
    """A server that died is not waited for until the timeout: ``alive`` ends the wait."""
    started = time.monotonic()
    assert not wait_listening(free_port(), timeout=30, alive=lambda: False)
    assert time.monotonic() - started < 10


def test_waiting_gives_up_when_the_time_is_up() -> None:
    """A condition that never holds ends the wait after the timeout, with False."""
    assert not wait_until(lambda: False, timeout=0.2)
