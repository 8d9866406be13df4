"""What the control panel's request log costs each API request, in-process.

Run: python bench/request_log.py [--requests 20000]

Calls a bare ASGI app that answers a small JSON body, with and without ``LogRequests`` in front
(a bearer token to mask, an org noted as a handler notes it), in the same run, and prints the
time per request of each and the difference. No server and no network: this is the
middleware's own cost, to hold against a mock request's (about 400 us under wrk, README).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from starlette.types import Message, Receive, Scope, Send

from usagemock.web.requests import LogRequests, RequestLog, note_org

BODY = b'{"monthly_events": 1}'


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    note_org(scope, "org_bench")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": BODY})


async def per_request(app: object, requests: int) -> float:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/kenbun/usage",
        "headers": [(b"authorization", b"Bearer bench-token-123")],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)  # type: ignore[operator]
    return (time.perf_counter() - started) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    logged = LogRequests(bare, "kenbun", RequestLog(), lambda: datetime.now(UTC), base_path="")
    asyncio.run(per_request(logged, 1000))  # warm up
    plain = asyncio.run(per_request(bare, args.requests))
    with_log = asyncio.run(per_request(logged, args.requests))
    print(f"bare app          {plain * 1e6:8.2f} us/request")
    print(f"with LogRequests  {with_log * 1e6:8.2f} us/request")
    print(f"log's cost        {(with_log - plain) * 1e6:8.2f} us/request")


if __name__ == "__main__":
    main()
