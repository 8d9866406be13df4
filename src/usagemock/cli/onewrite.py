"""One write per response: uvicorn's httptools protocol, a response's head and body sent at once.

uvicorn writes a response's head as soon as the app starts it and its body when the app sends
it: two ``send()`` calls and two TCP segments for every small JSON answer, and the client wakes
twice. Under load that second write cost as much as a third of the server's CPU (issue 15).
:class:`OneWriteProtocol` hands uvicorn's protocol a transport that gathers what is written during
one turn of the event loop and writes it once, at the end of that turn. Nothing waits longer
than that turn, so a streamed response (the panel's event stream) still leaves as it is sent, and
closing the connection writes what was gathered first, as does the client's end of sending
(asyncio closes the socket's transport on it, and a closed transport writes nothing more).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from usagemock.endless import ENDLESS


class GatheringTransport:
    """A transport whose writes in one turn of the event loop leave in one write."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._gathered: list[bytes] = []

    def write(self, data: bytes) -> None:
        """Keep ``data``; the first write of a turn has the gathered bytes written after it."""
        if not self._gathered:
            asyncio.get_running_loop().call_soon(self.flush)
        self._gathered.append(data)

    def flush(self) -> None:
        """Write what was gathered, in one write (nothing once the connection is closing)."""
        gathered, self._gathered = self._gathered, []
        if gathered and not self._transport.is_closing():
            self._transport.write(b"".join(gathered))

    def close(self) -> None:
        """Write what was gathered, then close."""
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        """Everything else is the transport's own (flow control, addresses, abort)."""
        return getattr(self._transport, name)


class OneWriteProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`GatheringTransport` (``uvicorn.run(http=...)``).

    At shutdown it also ends a response its app marked endless (:data:`usagemock.endless.ENDLESS`)
    as uvicorn ends an idle connection: the app hears the client left, the connection closes.
    """

    def shutdown(self) -> None:
        """Begin uvicorn's graceful shutdown; an endless response ends now, not at the timeout."""
        cycle = self.cycle
        if (
            cycle is not None
            and not cycle.response_complete
            and cycle.scope.get("state", {}).get(ENDLESS)
        ):
            cycle.disconnected = True  # its receive() now says http.disconnect
            cycle.message_event.set()
            self.transport.close()  # what was gathered is written first
            return
        super().shutdown()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Hand uvicorn the gathering transport instead of the socket's."""
        gathering = GatheringTransport(cast(asyncio.Transport, transport))
        super().connection_made(cast(asyncio.Transport, gathering))

    def eof_received(self) -> None:
        """Write what was gathered before asyncio closes the transport on the client's EOF.

        A client may end its side once its request is sent (``nc -N``); uvicorn's own protocol
        has answered it by then when the app answered in the request's turn.
        """
        cast(GatheringTransport, self.transport).flush()  # connection_made gave uvicorn this one
        super().eof_received()
