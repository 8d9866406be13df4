"""Org ids round-trip exactly through the URL, whatever their characters: no two share state."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXED_NOW, bearer
from usagemock.settings import Settings
from usagemock.web.app import create_app

ADMIN = "/_usagemock/orgs/timbal"
# The characters that took part in collisions (an encoded slash held as U+E000), plus the rest
# of what a path must escape.
PIECES = st.sampled_from(["a", "/", "%", "2F", "%2F", "\ue000", "\ue001", "?", "#", " ", "é"])
org_ids = st.lists(PIECES, min_size=1, max_size=6).map("".join) | st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20
)
APP = create_app(Settings(state=":memory:", validate_responses=True), real_clock=lambda: FIXED_NOW)
AMOUNTS = itertools.count(10_001)  # one amount per ingest: the app's state is shared


def path(org_id: str) -> str:
    """The admin path of a Timbal org, its id percent-encoded whole."""
    return f"{ADMIN}/{quote(org_id, safe='')}"


async def ingest_then_read(first: str, second: str, amount: int) -> list[Any]:
    """Ingest ``amount`` into ``first``; both orgs' admin views, Timbal's status for ``first``."""
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        ingested = await client.post(f"{path(first)}/ingest", json={"amount": amount})
        assert ingested.status_code == 200, ingested.text
        one = (await client.get(path(first))).json()
        other = (await client.get(path(second))).json()
        served = await client.get(
            f"/timbal/orgs/{quote(first, safe='')}/billing/overage", headers=bearer("t")
        )
    return [one["record"], other["record"], served.status_code]


def amounts(record: dict[str, Any]) -> list[int]:
    """The amounts of a record's ingests."""
    return [ingest["amount"] for ingest in record["ingests"]]


@settings(max_examples=100, deadline=None)
@given(first=org_ids, second=org_ids)
def test_an_ingest_shows_under_its_own_org_id_only(first: str, second: str) -> None:
    """An org id comes back exactly as sent, and an ingest into it never shows under another."""
    amount = next(AMOUNTS)
    one, other, status = asyncio.run(ingest_then_read(first, second, amount))
    assert one["org_id"] == first and amounts(one).count(amount) == 1
    assert other["org_id"] == second and status == 200
    assert (amount in amounts(other)) == (first == second)


def test_an_encoded_slash_and_the_private_use_character_are_two_orgs() -> None:
    """`a%2Fb` and `a` U+E000 `b` (the character once used to hold the slash) stay apart."""
    one, other, _ = asyncio.run(ingest_then_read("a/b", "a\ue000b", 777))
    assert one["org_id"] == "a/b" and amounts(one) == [777]
    assert other["org_id"] == "a\ue000b" and amounts(other) == []
