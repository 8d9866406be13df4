"""The admin commands' org paths: any org id reaches the server as exactly that id."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import in_process_client
from usagemock.cli.admin import org_path

# U+E000 is how the server holds an encoded slash for now (web/paths.py), and surrogates are no
# text a command line can carry; every other character is fair game.
ORG_IDS = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\ue000"),
    min_size=1,
    max_size=200,  # the admin spec's maxLength
)


@settings(max_examples=60, deadline=None)
@given(org_id=ORG_IDS)
def test_any_org_id_round_trips_through_the_admin_path(org_id: str) -> None:
    """GET of org_path(api, id) answers the record of that very id, whatever its characters."""

    async def record_id() -> str:
        async with in_process_client() as client:
            response = await client.get("/_usagemock" + org_path("timbal", org_id))
        assert response.status_code == 200, response.text
        return str(response.json()["record"]["org_id"])

    assert asyncio.run(record_id()) == org_id
