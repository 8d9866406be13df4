"""A 400 to a request that was not valid HTTP is the HTTP parser's answer: never judged."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kit.broken_servers import OWNED, TOKEN, kenbun_app, timbal_app
from tests.kit.conftest import finished
from usagemock.kit import Plan, StageFinished, Target, run
from usagemock.kit.wire import invalid_http, refused_by_parser


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/usage", [("Authorization", "Bearer a\x7fb")]),
        ("/usage", [("Authorization", "Bearer a\x01b")]),
        ("/usage", [("X-Name", "caf\u00e9 \u7d44")]),  # beyond Latin-1: no HTTP/1.1 octet
        ("/usage", [("Bad Name", "x")]),
        ("/usage", [("", "x")]),
        ("/usage with space", []),
        # what schemathesis' extra headers sent once, failing a correct server's credential_required
        ("/usage", [("content-length", "U|+ tx&e2Q\\/gr"), ("Authorization", "(RFraife'6Gl1O9!")]),
        ("/usage", [("Content-Length", "")]),
        ("/usage", [("Content-Length", "1, 2")]),
        ("/usage", [("Content-Length", "1"), ("content-length", "2")]),
        ("/usage", [("Content-Length", "1, 1")]),  # httptools refuses what h11 merges
        ("/usage", [("Transfer-Encoding", "gzip")]),
        ("/usage", [("Transfer-Encoding", "chunked"), ("Content-Length", "0")]),
        ("/usage", [("Transfer-Encoding", "gzip, chunked")]),
        ("/usage", [("Transfer-Encoding", "chunked")]),  # claimed, but the body is sent whole
        ("/usage", [("Host", "a"), ("host", "b")]),
        ("/usage", [("Host", "a b")]),
    ],
)
def test_requests_an_http_parser_refuses_are_recognised(
    url: str, headers: list[tuple[str, str]]
) -> None:
    """Bad characters or names, raw spaces, and framing fields that leave a body's size unknown."""
    assert invalid_http(url, headers) is not None
    assert refused_by_parser(400, url, headers)
    assert not refused_by_parser(401, url, headers), "only the parser's 400 is excused"


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("http://127.0.0.1:8000/orgs/org%0A%F2/billing/overage", [("Authorization", "Bearer x")]),
        ("/usage", [("Authorization", "Bearer t\tab and space, caf\u00e9")]),  # obs-text is HTTP
        ("/usage", [("X-Empty", "")]),
        ("/usage", [("Content-Length", "0"), ("Host", "127.0.0.1:8000")]),
    ],
)
def test_valid_requests_are_still_judged(url: str, headers: list[tuple[str, str]]) -> None:
    """Percent-encoded targets, tabs, spaces and Latin-1 values are valid: a 400 is judged."""
    assert invalid_http(url, headers) is None
    assert not refused_by_parser(400, url, headers)


@pytest.mark.e2e
def test_a_parser_400_does_not_fail_the_run(serve: Callable[[Any], str]) -> None:
    """Behind uvicorn, a token h11 refuses gets the parser's 400 on every call: not a failure.

    Timbal documents no 400, so judging the parser's answer would fail status_code_conformance.
    """
    token = "kit-token-with-del-\x7f"  # DEL: requests sends it, h11 refuses the request line
    plan = Plan(
        api="timbal",
        target=Target.live(serve(timbal_app())),
        token=token,
        seed=3,
        org_ids=OWNED,
        max_examples=5,
        samples=2,
    )
    events = list(run(plan))
    result = finished(events)
    assert result.passed, [f"{f.check}: {f.status} {f.message}" for f in result.findings]
    refused = sum(e.refused_by_http for e in events if isinstance(e, StageFinished))
    assert refused >= 4, refused


async def _refuse_every_credential(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app whose every answer is its auth refusing the request (401)."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 401, "headers": []})
    await send({"type": "http.response.body", "body": b"no"})


PARSERS = ("h11", "httptools")
PARSER_400 = b"Invalid HTTP request received."


@pytest.fixture
def parsers(serve: Callable[..., str]) -> dict[str, int]:
    """A uvicorn on a loopback port with each of its HTTP parsers: the port by parser."""
    urls = {parser: serve(_refuse_every_credential, http=parser) for parser in PARSERS}
    return {parser: int(url.rsplit(":", 1)[1]) for parser, url in urls.items()}


def _parser_refuses(port: int, target: str, headers: list[tuple[str, str]]) -> bool:
    """Whether uvicorn's parser answers these exact bytes with its own 400.

    The write side is closed after the head, so a parser waiting for a body it was promised
    sees the end at once instead of holding the test up.
    """
    head = f"GET {target} HTTP/1.1\r\n"
    if all(name.lower() != "host" for name, _ in headers):  # as clients do: theirs, unless given
        head += "Host: 127.0.0.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(head.encode("latin-1"))
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := connection.recv(65536):
                answer += chunk
    return answer.startswith(b"HTTP/1.1 400") and PARSER_400 in answer


@pytest.mark.parametrize("parser", PARSERS)
def test_the_request_that_failed_a_correct_server_is_the_parsers_to_refuse(
    parsers: dict[str, int], parser: str
) -> None:
    """A generated ``content-length`` header that is no number: uvicorn's parser answers 400.

    schemathesis sent it once among its extra headers; the API never saw the request, so the
    kit must not read the 400 as the server's auth failing (``credential_required``).
    """
    headers = [("content-length", "U|+ tx&e2Q\\/gr"), ("Authorization", "(RFraife'6Gl1O9!")]
    assert _parser_refuses(parsers[parser], "/usage", headers)
    assert refused_by_parser(400, "http://127.0.0.1:8000/usage", headers)


#: Header names a fuzzer may hit, HTTP's framing fields among them, and values of Latin-1 text.
_NAMES = st.sampled_from(
    ["Content-Length", "content-length", "Transfer-Encoding", "Host", "Authorization", "X-A"]
) | st.text(st.characters(codec="ascii", exclude_characters="\r\n:"), min_size=1, max_size=8)
_VALUES = st.sampled_from(["0", "12", "1, 1", "1,2", "chunked", "gzip", "", "a b"]) | st.text(
    st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=12
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(headers=st.lists(st.tuples(_NAMES, _VALUES), max_size=3), parser=st.sampled_from(PARSERS))
def test_whatever_uvicorns_parsers_refuse_the_kit_knows_is_not_http(
    parsers: dict[str, int], headers: list[tuple[str, str]], parser: str
) -> None:
    """Every request one of uvicorn's parsers answers with its own 400 is one ``wire`` excuses."""
    if _parser_refuses(parsers[parser], "/usage", headers):
        assert invalid_http("/usage", headers) is not None, f"{parser} refused {headers!r}"


@pytest.mark.e2e
def test_a_fuzzed_content_length_does_not_fail_a_correct_server(
    serve: Callable[[Any], str],
) -> None:
    """The flake, every time: each request carries schemathesis' ``content-length`` of text.

    uvicorn's parser answers all of them 400 before the API sees them; the run still passes,
    with every one counted as refused by HTTP (``credential_required`` failed on one before).
    """

    def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
        case.headers = {**(case.headers or {}), "content-length": "U|+ tx&e2Q\\/gr"}

    schemathesis.hook(before_call)
    try:
        plan = Plan(
            api="kenbun",
            target=Target.live(serve(kenbun_app())),
            token=TOKEN,
            seed=1,
            max_examples=5,
            samples=2,
        )
        events = list(run(plan))
    finally:
        schemathesis.hooks.unregister(before_call)
    result = finished(events)
    assert result.passed, [f"{f.check}: {f.status} {f.message}" for f in result.findings]
    refused = sum(e.refused_by_http for e in events if isinstance(e, StageFinished))
    assert refused == result.requests, (refused, result.requests)
