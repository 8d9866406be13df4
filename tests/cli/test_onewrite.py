"""One write per response: what one turn of the event loop writes leaves together, and only that.

The gathering is checked on a transport that records its writes; the protocol on a real uvicorn
server, with raw sockets: pipelined requests, ``Connection: close``, HEAD, a streamed response
whose chunks must each arrive before the next is sent, and a large body.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from tests.test_cli import LiveServer
from usagemock.cli.onewrite import GatheringTransport, OneWriteProtocol
from usagemock.cli.serve import SHUTDOWN_SECONDS
from usagemock.testing import free_port, wait_listening


class Recording(asyncio.Transport):
    """asyncio's transport interface, keeping what is written instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        """Keep ``data``."""
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        """Whether close() was called."""
        return self.closed

    def close(self) -> None:
        """Note the close."""
        self.closed = True

    def get_write_buffer_size(self) -> int:
        """A number only this transport gives."""
        return 7


async def test_writes_of_one_turn_leave_in_one_write_at_its_end() -> None:
    """Head and body written in one turn are one write, after the turn; the next turn's apart."""
    recording = Recording()
    gathering = GatheringTransport(recording)
    gathering.write(b"head ")
    gathering.write(b"body")
    assert recording.writes == []
    await asyncio.sleep(0)
    assert recording.writes == [b"head body"]
    gathering.write(b"next")
    await asyncio.sleep(0)
    assert recording.writes == [b"head body", b"next"]


async def test_closing_writes_what_was_gathered_first_and_nothing_after() -> None:
    """close() sends the gathered bytes, then closes; a later write is dropped, as on a socket."""
    recording = Recording()
    gathering = GatheringTransport(recording)
    gathering.write(b"last words")
    gathering.close()
    assert (recording.writes, recording.closed) == ([b"last words"], True)
    gathering.write(b"too late")
    await asyncio.sleep(0)
    assert recording.writes == [b"last words"]


def test_everything_else_is_the_transports_own() -> None:
    """Flow control and the like reach the real transport."""
    assert GatheringTransport(Recording()).get_write_buffer_size() == 7


CHUNK_GAP = 0.2  # seconds between a streamed response's chunks
BIG = b"x" * (1 << 20)


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    """/big: 1 MiB; /stream: three chunks CHUNK_GAP apart; else the path back."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n in range(3):
            await send({"type": "http.response.body", "body": b"%d;" % n, "more_body": True})
            await asyncio.sleep(CHUNK_GAP)
        await send({"type": "http.response.body", "body": b""})
        return
    body = BIG if path == "/big" else path.encode()
    length = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": length})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    """A real uvicorn server with the one-write protocol, in a thread."""
    chosen = free_port()
    config = uvicorn.Config(
        _app, host="127.0.0.1", port=chosen, http=OneWriteProtocol, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_listening(chosen, timeout=10)
    yield chosen
    server.should_exit = True
    thread.join(10)


def _exchange(port: int, raw: bytes, until_closed: bool = False, want: int = 0) -> bytes:
    """Send ``raw``; read until the peer closes, or until ``want`` bytes of it came."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        received = b""
        while until_closed or len(received) < want:
            data = sock.recv(65536)
            if not data:
                break
            received += data
        return received


def test_pipelined_requests_get_whole_answers_in_order(port: int) -> None:
    """Two requests sent at once: two complete responses, the first first."""
    raw = (
        b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    received = _exchange(port, raw, until_closed=True)
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert received.index(b"/one") < received.index(b"/two")


def test_a_closing_connection_gets_its_whole_answer(port: int) -> None:
    """Connection: close still delivers head and body before the close."""
    received = _exchange(port, b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", True)
    assert received.startswith(b"HTTP/1.1 200 OK") and received.endswith(b"/bye")


def test_head_gets_a_head_only(port: int) -> None:
    """A HEAD answer ends with its head."""
    received = _exchange(port, b"HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", True)
    assert received.startswith(b"HTTP/1.1 200 OK") and received.endswith(b"\r\n\r\n")


def test_a_large_body_arrives_whole(port: int) -> None:
    """1 MiB, past any socket buffer: flow control still reaches the real transport."""
    received = _exchange(port, b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", True)
    assert received.endswith(BIG)


def test_a_streamed_chunk_arrives_before_the_next_is_sent(port: int) -> None:
    """Nothing is held past its turn: each chunk comes well before the stream's end."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        start, arrivals, received = time.monotonic(), [], b""
        while data := sock.recv(65536):
            received += data
            arrivals.append((time.monotonic() - start, received.count(b";")))
    first_chunk = next(at for at, chunks in arrivals if chunks >= 1)
    assert first_chunk < CHUNK_GAP, arrivals
    assert received.count(b";") == 3


def test_a_client_that_half_closes_after_its_request_still_gets_the_answer(port: int) -> None:
    """EOF from the client closes the socket's transport: what was gathered leaves before that.

    uvicorn's own protocol answers such a client (``printf ... | nc -N``) whenever the app
    answered in the turn it got the request; every one of several tries must get it here too.
    """
    answered = 0
    for _ in range(10):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /half HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            received = b""
            while data := sock.recv(65536):
                received += data
        answered += received.startswith(b"HTTP/1.1 200 OK") and received.endswith(b"/half")
    assert answered == 10


@pytest.mark.e2e
@pytest.mark.parametrize("workers", ["1", "2"])
def test_stopping_with_the_panels_stream_open_ends_it_without_a_traceback(
    workers: str, tmp_path: Path
) -> None:
    """Ctrl+C with the panel's request log open: the stream ends at once, nothing is cancelled.

    Without it uvicorn waited out its graceful timeout for a stream that never ends, then
    cancelled it and printed the CancelledError's traceback.
    """
    server = LiveServer("--workers", workers, "--state", str(tmp_path / "state.sqlite3"))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /_usagemock/panel/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        started = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        sock.settimeout(SHUTDOWN_SECONDS)
        try:
            while sock.recv(65536):  # the rest of the stream, then its end
                pass
        except TimeoutError:
            pass  # still open: the assertion below says so
        ended = time.monotonic() - started
        _, err = server.process.communicate(timeout=10)
    assert ended < SHUTDOWN_SECONDS, f"the stream lasted {ended:.1f} s into the shutdown"
    assert "Traceback" not in err and "Cancel" not in err, err
