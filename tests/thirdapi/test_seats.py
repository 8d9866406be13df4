"""A third API, defined under tests/ only, is served, tested by the kit and managed by admin."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from tests.conftest import REPO, bearer, in_process_client
from tests.thirdapi.seats import FACTS, NAME, SCENARIOS
from usagemock import apis
from usagemock.cli import main
from usagemock.cli.serve import banner
from usagemock.errors import ConfigError
from usagemock.settings import Settings, build_settings

ORG = "org_seats_a"


@pytest.fixture
def seats() -> Iterator[None]:
    """The Seats API registered for one test, as a user's own API is before serving it."""
    apis.register(FACTS)
    try:
        yield
    finally:
        apis.unregister(NAME)


def _client(**settings: object) -> httpx.AsyncClient:
    return in_process_client(scenarios=SCENARIOS, **settings)


@pytest.mark.usefixtures("seats")
async def test_the_mock_serves_it_beside_the_bundled_apis() -> None:
    """Under /seats/ the mock answers its one operation, held to its rule (and its spec)."""
    async with _client() as client:
        response = await client.get(f"/{NAME}/orgs/{ORG}/seats", headers=bearer("t"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["org_id"] == ORG and apis.violations(NAME, body) == []
        refused = await client.get(f"/{NAME}/orgs/{ORG}/seats")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"


@pytest.mark.usefixtures("seats")
async def test_the_admin_api_applies_its_scenario() -> None:
    """PUT .../seats/<org>/scenario puts the org in the seats scenario; GET shows its record."""
    async with _client(api=NAME) as client:
        applied = await client.put(
            f"/_usagemock/orgs/{NAME}/{ORG}/scenario", json={"name": "seats_full_house"}
        )
        assert applied.status_code == 200, applied.text
        record = (await client.get(f"/_usagemock/orgs/{NAME}/{ORG}")).json()["record"]
        assert record["api"] == NAME and record["seats_limit"] == 10
        body = (await client.get(f"/orgs/{ORG}/seats", headers=bearer("t"))).json()
        assert (body["seats_used"], body["over_limit"]) == (12, True)


@pytest.mark.usefixtures("seats")
def test_the_kit_passes_it_through_usagemock_test() -> None:
    """``usagemock test --api seats`` runs every stage against the in-process mock and passes."""
    result = CliRunner().invoke(
        main,
        ["test", "--api", NAME, "--max-examples", "5", "--samples", "2", "--seed", "1"],
    )
    assert result.exit_code == 0, result.output
    assert f"ok   {NAME}_over_limit_flag" in result.output and f"{NAME}: PASSED" in result.output


@pytest.mark.usefixtures("seats")
def test_the_serve_banner_offers_its_sample_path() -> None:
    """The start-up text lists the API and a curl for its sample path."""
    text = banner(Settings())
    assert f"/{NAME}/orgs/org_demo/seats" in text


def test_nothing_under_src_names_it() -> None:
    """Adding the Seats API took no change under src/: no file there names it."""
    named = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / "src").rglob("*"))
        if path.is_file()
        and path.suffix in (".py", ".yaml", ".md")
        and re.search(r"\bseats?\b", path.read_text(), re.IGNORECASE)
    ]
    assert not named, named


def test_an_unregistered_api_is_refused_with_the_names_there_are() -> None:
    """Without the fixture, "seats" is no API: settings refuse it in one line."""
    with pytest.raises(ConfigError, match="use one of: all, timbal, kenbun"):
        build_settings({}, {"api": NAME})
