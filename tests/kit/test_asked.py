"""Placing requests a proxy sees on the specs, and judging any answer, never fail on odd input."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usagemock.kit.asked import client_breaks, place, statuses
from usagemock.kit.watch import Exchange, Watch

BOTH = {"/kenbun": "kenbun", "/timbal": "timbal"}
LATIN1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/kenbun/usage", ("kenbun", "/usage", {})),
        (
            "/timbal/orgs/org%2Fa%20b/billing/overage",
            ("timbal", "/orgs/{org_id}/billing/overage", {"org_id": "org/a b"}),
        ),
        ("/timbal/orgs/a/b/billing/overage", ("timbal", None, {})),
        ("/kenbunusage", None),
    ],
)
def test_a_request_lands_on_its_api_and_operation(path: str, expected: tuple | None) -> None:
    """The mount picks the API; an encoded slash stays inside the org id; a near miss is none."""
    asked = place(BOTH, "GET", path, "")
    got = None if asked is None else (asked.api, asked.template, asked.path_parameters)
    assert got == expected


def test_the_client_breaks_are_named() -> None:
    """No credential and an undocumented method are the client's bugs; a good request has none."""
    usage = place({"": "kenbun"}, "GET", "/usage", "")
    assert usage is not None and statuses(usage) == {200, 400, 401}
    assert [b.check for b in client_breaks(usage, [])] == ["client_bearer_credential"]
    assert client_breaks(usage, [("Authorization", "Bearer t")]) == []
    assert [b.check for b in client_breaks(usage, [("authorization", "Basic eA==")])] == [
        "client_bearer_credential"
    ]
    posted = place({"": "kenbun"}, "POST", "/usage", "")
    assert posted is not None
    assert [b.check for b in client_breaks(posted, [])] == ["client_undocumented_operation"]


@functools.cache
def _watch() -> Watch:
    return Watch(BOTH, "http://upstream")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "get"]),
    path=st.one_of(
        st.just("/kenbun/usage"),
        st.builds(lambda org: f"/timbal/orgs/{org}/billing/overage", LATIN1.filter(bool)),
        LATIN1.map(lambda text: "/" + text),
    ),
    query=LATIN1,
    headers=st.lists(st.tuples(st.sampled_from(["authorization", "x-a", "accept"]), LATIN1)),
    status=st.integers(100, 599),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "", "application/problem+json"]
    ),
    body=st.one_of(st.binary(max_size=200), st.just(b'{"monthly_events": -1}'), st.just(b"{}")),
    gzip=st.booleans(),
)
def test_judging_any_exchange_never_raises(
    method: str, path: str, query: str, headers: list[tuple[str, str]], status: int,
    content_type: str, body: bytes, gzip: bool,
) -> None:  # fmt: skip
    """Whatever a client sends and a server answers, the watch gives a verdict, never a crash."""
    response_headers = [("content-type", content_type)] if content_type else []
    if gzip:
        response_headers.append(("content-encoding", "gzip"))  # often not gzip at all
    now = datetime.now(UTC)
    verdict = _watch().judge(
        Exchange(method, path, query, headers, b"", "http://upstream" + path, status,
                 response_headers, body, now, now)
    )  # fmt: skip
    assert all(f.check for f in verdict.findings)
