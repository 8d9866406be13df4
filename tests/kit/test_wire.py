"""A 400 to a request that was not valid HTTP is the HTTP parser's answer: never judged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.kit.broken_servers import OWNED, timbal_app
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
    ],
)
def test_requests_an_http_parser_refuses_are_recognised(
    url: str, headers: list[tuple[str, str]]
) -> None:
    """Control characters, DEL, non-Latin-1 text, bad names and raw spaces are not HTTP."""
    assert invalid_http(url, headers) is not None
    assert refused_by_parser(400, url, headers)
    assert not refused_by_parser(401, url, headers), "only the parser's 400 is excused"


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("http://127.0.0.1:8000/orgs/org%0A%F2/billing/overage", [("Authorization", "Bearer x")]),
        ("/usage", [("Authorization", "Bearer t\tab and space, caf\u00e9")]),  # obs-text is HTTP
        ("/usage", [("X-Empty", "")]),
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
