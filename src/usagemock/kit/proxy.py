"""A validating reverse proxy: an ASGI app that forwards every request and judges every answer.

Requests go upstream as the client sent them (method, path and query byte for byte, headers
including ``Authorization``, body), and answers come back as the server gave them: status,
headers and body bytes, compressed or not (the raw stream is forwarded; only a copy is decoded,
for the checks). What is dropped both ways are the hop-by-hop headers of RFC 9110 section
7.6.1 (:data:`HOP_BY_HOP` and any named in ``Connection``), which belong to one connection;
``Host`` names the upstream. The one addition is :data:`VIOLATIONS_HEADER` on an answer that
broke a check (:mod:`usagemock.kit.watch` judges it).

An answer the proxy judges is read whole before it is sent on (the header must come before the
body); one it does not judge (outside the APIs, or an operation the spec does not document) streams
through chunk by chunk, as does any body past :data:`CHECKED_BODY_LIMIT`. Upstream failures
(refused, timeout, TLS) get a 502 ``application/problem+json``, or the mock's answer with
``--mock-fallback``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from usagemock.kit.asked import Asked, statuses
from usagemock.kit.watch import Exchange, Verdict, Watch

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: RFC 9110 section 7.6.1: headers for one connection only, never forwarded (``Proxy-Connection``
#: and ``Keep-Alive`` are the non-standard ones the RFC names too).
HOP_BY_HOP = frozenset(
    {"connection", "proxy-connection", "keep-alive", "te", "transfer-encoding", "upgrade"}
)
VIOLATIONS_HEADER = "x-usagemock-violations"
FALLBACK_HEADER = "x-usagemock-fallback"
#: Prism users asked for a cap: a long list stops at this many bytes, saying how many more.
VIOLATIONS_HEADER_LIMIT = 1024
#: Bodies larger than this stream through unjudged (these APIs answer a few hundred bytes).
CHECKED_BODY_LIMIT = 8 * 1024 * 1024
PROBLEM = "application/problem+json"
_PROBLEM_TYPE = "urn:usagemock:problem:"


@dataclass(frozen=True)
class ProxyOptions:
    """How a proxy forwards: where to, how long to wait, and what to do with violations."""

    target: str
    """The upstream base URL; a request's path and query are appended to it as they came."""
    timeout: float = 30.0
    errors: bool = False
    """Replace an answer that broke a documented or inferred check with a 502 problem."""
    fallback: ASGIApp | None = None
    """The mock, answering what the upstream does not serve (None: off)."""
    transport: httpx.AsyncBaseTransport | None = None
    """How to reach the upstream: None is the network; an ``httpx.ASGITransport`` calls an app
    in this process (as the kit's :class:`~usagemock.kit.targets.Target` does)."""


class Proxy:
    """The ASGI app: forward, judge, pass the answer back (plus the violations header)."""

    def __init__(
        self, options: ProxyOptions, watch: Watch, on_verdict: Callable[[Verdict], None]
    ) -> None:
        self.options = options
        self.watch = watch
        self.on_verdict = on_verdict
        """Called with every verdict that has findings (the CLI prints and logs them)."""
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def client(self) -> httpx.AsyncClient:
        """The upstream client: no default headers, no redirects followed, no decoding."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.options.timeout,
                follow_redirects=False,
                transport=self.options.transport,
            )
        return self._client

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        raw_path = _raw_path(scope)
        if not raw_path.startswith("/"):
            # `OPTIONS *` (asterisk-form): no path to append to --target, so nothing to forward.
            detail = (
                f"usagemock proxy forwards requests for a path; the request target {raw_path!r} "
                "is not one. Send a path starting with '/'."
            )
            await _problem(send, 400, "request-target", "Bad Request", detail)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        # As bytes, so httpx sends each value exactly as it came (it would re-encode a str).
        forwarded = _encode([(k, v) for k, v in _end_to_end(headers) if k.lower() != "host"])
        asked = self.watch.place(scope["method"], raw_path, query)
        url = self.options.target + raw_path + (f"?{query}" if query else "")
        request = httpx.Request(scope["method"], url, headers=forwarded, content=body)
        sent = datetime.now(UTC)
        try:
            upstream = await self.client().send(request, stream=True)
        except httpx.HTTPError as exc:
            if self.options.fallback is not None:
                down = f"upstream unreachable: {_reason(exc)}"
                await self._fallback(scope, headers, request, down, sent, send)
                return
            await _problem(send, 502, "upstream-unreachable", "Bad Gateway", _unreachable(url, exc))
            return
        try:
            why = self._fallback_reason(upstream.status_code, asked)
            if why is not None and self.options.fallback is not None:
                await self._fallback(scope, headers, request, why, sent, send)
                return
            judged = asked is not None and asked.documented
            await self._answer(scope, headers, body, url, sent, upstream, judged, send)
        finally:
            await upstream.aclose()

    def _fallback_reason(self, status: int, asked: Asked | None) -> str | None:
        """Why the mock should answer instead (None: the upstream's answer stands)."""
        if status == 501:
            return "upstream answered 501"
        if status != 404 or asked is None or not asked.documented:
            return None  # a 404 for a path the spec lacks is the server's to give
        return None if 404 in statuses(asked) else "upstream answered an undocumented 404"

    async def _answer(
        self,
        scope: Scope,
        headers: list[tuple[str, str]],
        body: bytes,
        url: str,
        sent: datetime,
        upstream: httpx.Response,
        judged: bool,
        send: Send,
    ) -> None:
        chunks = upstream.aiter_raw()
        pieces: list[bytes] = []
        size, whole = 0, True
        if judged:
            try:
                async for chunk in chunks:
                    pieces.append(chunk)
                    size += len(chunk)
                    if size > CHECKED_BODY_LIMIT:
                        whole = False
                        break
            except httpx.HTTPError as exc:  # nothing sent yet: the client can still get a 502
                await _problem(
                    send, 502, "upstream-unreachable", "Bad Gateway", _unreachable(url, exc)
                )
                return
        kept = b"".join(pieces)
        status = upstream.status_code
        out = [(k.lower(), v) for k, v in _end_to_end(_raw(upstream.headers))]
        if not judged or whole:
            exchange = Exchange(
                method=scope["method"],
                raw_path=_raw_path(scope),
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                request_body=body,
                url=url,
                status=status,
                response_headers=out,
                body=kept,
                sent=sent,
                received=datetime.now(UTC),
            )
            # Unjudged (outside the APIs, or an undocumented operation): only the client's bugs.
            verdict = self.watch.judge(exchange)
            if verdict.findings:
                self.on_verdict(verdict)
            if verdict.failures and self.options.errors:
                await _problem(
                    send,
                    502,
                    "contract-violation",
                    "The upstream answer breaks the contract",
                    f"{status} from {url} broke {len(verdict.failures)} check(s)",
                    violations=[
                        {"check": f.check, "kind": f.kind, "message": f.what_broke}
                        for f in verdict.failures
                    ],
                    extra=[(VIOLATIONS_HEADER, violations_header(verdict))],
                )
                return
            header = violations_header(verdict)
            if header:
                out.append((VIOLATIONS_HEADER, header))
        await send({"type": "http.response.start", "status": status, "headers": _encode(out)})
        if kept:
            await send({"type": "http.response.body", "body": kept, "more_body": True})
        try:
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.HTTPError:
            return  # the upstream broke off mid-body: so does the answer (the client sees it cut)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _fallback(
        self,
        scope: Scope,
        headers: list[tuple[str, str]],
        request: httpx.Request,
        why: str,
        sent: datetime,
        send: Send,
    ) -> None:
        """Answer with the mock, saying so in :data:`FALLBACK_HEADER`; judge only the client."""
        assert self.options.fallback is not None
        transport = httpx.ASGITransport(app=self.options.fallback)
        async with httpx.AsyncClient(transport=transport, base_url="http://usagemock") as mock:
            path = request.url.raw_path.decode("ascii")
            answer = await mock.send(
                mock.build_request(
                    request.method, path, headers=request.headers, content=request.content
                ),
                stream=True,
            )
            out = [(k.lower(), v) for k, v in _end_to_end(_raw(answer.headers))]
            out.append((FALLBACK_HEADER, f"mock ({why})"))
            verdict = self.watch.judge(
                Exchange(
                    method=scope["method"],
                    raw_path=_raw_path(scope),
                    query=scope.get("query_string", b"").decode("latin-1"),
                    headers=headers,
                    request_body=request.content,
                    url=str(request.url),
                    status=answer.status_code,
                    response_headers=out,
                    body=b"",  # the mock's own answer is not judged
                    sent=sent,
                    received=datetime.now(UTC),
                ),
                by_upstream=False,
            )
            if verdict.findings:
                self.on_verdict(verdict)
                out.append((VIOLATIONS_HEADER, violations_header(verdict)))
            await send(
                {
                    "type": "http.response.start",
                    "status": answer.status_code,
                    "headers": _encode(out),
                }
            )
            async for chunk in answer.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await answer.aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def violations_header(verdict: Verdict) -> str:
    """The header value naming each broken check (the client's prefixed ``client:``), capped."""
    names = list(dict.fromkeys(f.check for f in verdict.failures))
    names += [f"client:{check}" for check in dict.fromkeys(f.check for f in verdict.client)]
    value = ""
    for number, name in enumerate(names):
        more = f", ...(+{len(names) - number} more)"
        candidate = f"{value}, {name}" if value else name
        if len(candidate) + len(more) > VIOLATIONS_HEADER_LIMIT and number < len(names) - 1:
            return value + more
        value = candidate
    return value


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


def _raw_path(scope: Scope) -> str:
    """The request's path as sent (percent-encoding kept), one character per byte."""
    return str((scope.get("raw_path") or scope["path"].encode()).decode("latin-1"))


def _end_to_end(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` without the hop-by-hop ones, and without those ``Connection`` names."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP | named]


def _raw(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers.raw]


def _encode(headers: Sequence[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({type(exc).__name__})"
    return str(exc) or type(exc).__name__


def _unreachable(url: str, exc: httpx.HTTPError) -> str:
    return (
        f"usagemock proxy could not get an answer from {url}: {_reason(exc)}. Check --target "
        "and that the server is up."
    )


async def _problem(
    send: Send,
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    violations: list[dict[str, str]] | None = None,
    extra: Sequence[tuple[str, str]] = (),
) -> None:
    """An RFC 9457 problem of the proxy's own."""
    problem: dict[str, Any] = {
        "type": _PROBLEM_TYPE + kind,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if violations is not None:
        problem["violations"] = violations
    body = json.dumps(problem).encode()
    headers = [("content-type", PROBLEM), ("content-length", str(len(body))), *extra]
    await send({"type": "http.response.start", "status": status, "headers": _encode(headers)})
    await send({"type": "http.response.body", "body": body})
