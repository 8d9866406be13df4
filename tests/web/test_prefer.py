"""Per-request preferences: scenarios, Prism's code/example/dynamic, latency; unknowns ignored."""

from __future__ import annotations

import time

import pytest

from tests.conftest import MakeClient, bearer
from usagemock.rules import violations
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
