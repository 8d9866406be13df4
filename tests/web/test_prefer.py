"""Per-request preferences: scenarios, Prism's code/example/dynamic, latency; unknowns ignored."""

from __future__ import annotations

import asyncio
import functools
import time

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.types import ASGIApp

from tests.conftest import FIXED_NOW, MakeClient, bearer
from usagemock.apis import violations
from usagemock.settings import Settings
from usagemock.web.app import create_app
from usagemock.web.prefer import parse_prefer

TIMBAL = "/timbal/orgs/org_pref/billing/overage"
KENBUN = "/kenbun/usage"


def test_parse_prefer_reads_rfc_7240_lists_and_quotes() -> None:
    """Several headers, comma lists, quoted values and parameters all parse; the first wins."""
    prefs = parse_prefer(['scenario="heavy_overage"; strict, code=403', "Code=500, dynamic"])
    assert prefs.asked == {"scenario": "heavy_overage", "code": "403", "dynamic": ""}


async def test_scenario_preference_applies_to_one_request_only(make_client: MakeClient) -> None:
    """`Prefer: scenario=` shapes that response only; the next plain request is unchanged."""
    async with make_client() as client:
        plain = (await client.get(KENBUN, headers=bearer("t"))).json()
        over = await client.get(
            KENBUN, headers={**bearer("t"), "Prefer": "scenario=just_over_limit"}
        )
        again = (await client.get(KENBUN, headers=bearer("t"))).json()
    assert over.headers["preference-applied"] == "scenario=just_over_limit"
    body = over.json()
    assert body["overage"] is True and body["monthly_events"] == body["free_tier_limit"] + 1
    assert body["org_id"] == plain["org_id"], "the scenario keeps the org's identity"
    assert again == plain


@pytest.mark.parametrize(
    ("prefer", "ignored"),
    [
        ("scenario=nope", "no such scenario"),
        ("scenario=cap_reached", "not a kenbun scenario"),
        ("code=404", "not a documented status"),
        ("example=nope", "no such example"),
        ("latency=soon", "give milliseconds"),
    ],
)
async def test_unusable_preferences_are_ignored_and_said(
    make_client: MakeClient, prefer: str, ignored: str
) -> None:
    """A preference the mock cannot honour is ignored (RFC 7240) and named in a header."""
    async with make_client() as client:
        response = await client.get(KENBUN, headers={**bearer("t"), "Prefer": prefer})
    assert response.status_code == 200
    assert ignored in response.headers["x-usagemock-ignored"]
    assert violations("kenbun", response.json()) == []


@pytest.mark.parametrize(
    ("path", "code", "field"),
    [
        (TIMBAL, 403, "message"),
        (TIMBAL, 500, "message"),
        (KENBUN, 400, "detail"),
        (KENBUN, 401, "detail"),
    ],
)
async def test_code_preference_answers_a_documented_error(
    make_client: MakeClient, path: str, code: int, field: str
) -> None:
    """`Prefer: code=NNN` answers that documented status with the API's error body."""
    async with make_client() as client:
        response = await client.get(path, headers={**bearer("t"), "Prefer": f"code={code}"})
    assert response.status_code == code
    assert response.headers["preference-applied"] == f"code={code}"
    assert "Injected by usagemock" in response.json()[field]


async def test_example_and_static_preferences_return_the_spec_examples(
    make_client: MakeClient,
) -> None:
    """`example=NAME` and `dynamic=false` return the spec's own examples, as Prism does."""
    async with make_client() as client:
        named = await client.get(
            TIMBAL, headers={**bearer("t"), "Prefer": "example=interim_invoice_fired"}
        )
        static = await client.get(KENBUN, headers={**bearer("t"), "Prefer": "dynamic=false"})
    assert named.json()["invoiced_credits"] == 1_000_000
    assert static.json()["org_name"] == "Acme Corporation"
    assert static.headers["preference-applied"] == "dynamic=false"


async def test_latency_preference_delays_the_answer(make_client: MakeClient) -> None:
    """`Prefer: latency=MS` holds the response at least that long."""
    async with make_client() as client:
        started = time.monotonic()
        response = await client.get(KENBUN, headers={**bearer("t"), "Prefer": "latency=300"})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    ("prefer", "ignored"),
    [
        ("latency=" + "9" * 4301, "give milliseconds"),
        ("code=" + "4" * 5001, "not a documented status"),
    ],
    ids=["huge-latency", "huge-code"],
)
async def test_numbers_the_mock_cannot_honour_are_ignored(
    make_client: MakeClient, prefer: str, ignored: str
) -> None:
    """A latency or code too long to be a number is ignored and said, never a 500."""
    async with make_client() as client:
        for path in (KENBUN, TIMBAL):
            response = await client.get(path, headers={**bearer("t"), "Prefer": prefer})
            assert response.status_code == 200, response.text
            assert ignored in response.headers["x-usagemock-ignored"]


# What a header field value may carry (RFC 9110 5.5): visible ASCII, space, tab and obs-text.
_FIELD_TEXT = st.text(
    st.characters(codec="latin-1", categories=None, exclude_characters="\r\n\x00").filter(
        lambda c: c == "\t" or (ord(c) >= 0x20 and ord(c) != 0x7F)
    )
)
# Digit strings up to 9,000 long (past Python's 4,300-digit limit on int() of a string), of
# ASCII digits and of the Latin-1 ones str.isdigit() takes but int() does not.
_DIGITS = st.builds(
    lambda digits, times: digits * times,
    st.text("0123456789²³¹", min_size=1, max_size=3),
    st.integers(1, 3000) | st.integers(1, 3),
)
_PREFER = st.one_of(
    _FIELD_TEXT,
    st.builds(
        "{}={}{}".format,
        st.sampled_from(["latency", "code", "scenario", "example", "dynamic"]),
        st.sampled_from(["", '"']),
        st.one_of(_FIELD_TEXT, _DIGITS),
    ),
)


@settings(max_examples=60, deadline=None)
@example(prefer="latency=²")  # str.isdigit() takes it, int() does not
@example(prefer="code=" + "4" * 4301)
@given(prefer=st.lists(_PREFER, min_size=1, max_size=3).map(", ".join))
def test_no_prefer_header_gets_a_5xx(prefer: str) -> None:
    """Whatever a Prefer header says, each API answers below 500 (preferences are only hints)."""

    async def ask() -> list[int]:
        transport = httpx.ASGITransport(app=_shared_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            headers = {**bearer("t"), "Prefer": prefer.encode("latin-1")}
            return [
                (await client.get(path, headers=headers)).status_code for path in (KENBUN, TIMBAL)
            ]

    assert all(status < 500 for status in asyncio.run(ask())), prefer


@functools.cache
def _shared_app() -> ASGIApp:
    """One mock for every example (building one per example would take most of the time)."""
    return create_app(
        Settings(validate_responses=True, state=":memory:"), real_clock=lambda: FIXED_NOW
    )
