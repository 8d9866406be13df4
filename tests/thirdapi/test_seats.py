"""A third API, defined under tests/ only, is served, tested by the kit and managed by admin."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import REPO, bearer, in_process_client
from tests.test_cli import run_cli
from tests.thirdapi.seats import DEFINITION, FACTS, NAME, SCENARIOS
from usagemock import apis
from usagemock.cli import main
from usagemock.cli.serve import banner
from usagemock.errors import ConfigError
from usagemock.settings import Settings, build_settings
from usagemock.web.app import create_app

ORG = "org_seats_a"


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


@pytest.mark.parametrize(
    ("attribute", "value", "says"),
    [
        ("operation_id", "getSeat", r"operationId 'getSeat'; .* declares getSeats at /orgs/"),
        ("facts", dataclasses.replace(FACTS, org_param="org"), r"parameter 'org', which /orgs/"),
    ],
)
@pytest.mark.usefixtures("seats")
def test_a_definition_its_spec_does_not_fit_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, attribute: str, value: object, says: str
) -> None:
    """A wrong operationId or org parameter stops the build in one line, not 500s at requests."""
    monkeypatch.setattr(DEFINITION, attribute, value)
    if attribute == "facts":  # the registry holds the facts the definition holds
        apis.unregister(NAME)
        apis.register(DEFINITION.facts)
    with pytest.raises(ConfigError, match=says):
        create_app(Settings(api=NAME, state=":memory:"))


@pytest.mark.usefixtures("seats")
def test_the_admin_commands_drive_it_on_a_server_that_registered_it(serve: Any) -> None:
    """The CLI's process has no Seats API: it sends the name, and the server that has it obeys.

    An unknown name is the server's refusal, one line naming the APIs it serves.
    """
    url = serve(create_app(Settings(state=":memory:", scenarios=SCENARIOS)))
    env = {"USAGEMOCK_URL": url}
    applied = run_cli("scenario", "apply", NAME, ORG, "seats_full_house", env=env)
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["response"]["over_limit"] is True
    refused = run_cli("org", "show", "nope", ORG, env=env)
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert f"'nope' is not one of ['kenbun', '{NAME}', 'timbal']" in refused.stderr


@pytest.mark.usefixtures("seats")
def test_the_kit_holds_it_to_its_own_scenario_from_a_scenarios_folder() -> None:
    """``usagemock test --scenario`` finds a scenario in ``--scenarios`` and checks its expect."""
    scenario = ["--scenario", "seats_full_house", "--scenarios", str(SCENARIOS)]
    budget = ["--max-examples", "5", "--samples", "2", "--seed", "1"]
    result = CliRunner().invoke(main, ["test", "--api", NAME, *scenario, *budget])
    assert result.exit_code == 0, result.output
    assert "ok   scenario_expectations" in result.output


@pytest.mark.usefixtures("seats")
def test_a_spec_with_an_operation_the_definition_does_not_serve_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A second operation in the spec has no handler: refused in one line, not 500s to both."""
    document = yaml.safe_load(FACTS.spec.read_text())
    document["paths"]["/other"] = {"get": {"responses": {"200": {"description": "other"}}}}
    (spec := tmp_path / "seats.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.setattr(DEFINITION, "facts", dataclasses.replace(FACTS, spec=spec))
    apis.unregister(NAME)
    apis.register(DEFINITION.facts)
    with pytest.raises(ConfigError, match=r"declares getSeats at .*, no operationId at /other"):
        create_app(Settings(api=NAME, state=":memory:"))


@pytest.mark.usefixtures("seats")
async def test_the_panel_lists_it_and_the_chart_draws_it() -> None:
    """Its overview is all the panel and the admin chart need: seats against the limit."""
    async with _client(api=NAME) as client:
        await client.put(
            f"/_usagemock/orgs/{NAME}/{ORG}/scenario", json={"name": "seats_full_house"}
        )
        chart = (await client.get(f"/_usagemock/orgs/{NAME}/{ORG}/chart")).json()
        listed = (await client.get("/_usagemock/panel/orgs")).text
        state = await client.get("/_usagemock/panel/org/state", params={"api": NAME, "id": ORG})
    assert chart["limits"] == [{"key": "seats_limit", "label": "Limit", "value": 10}]
    assert chart["lines"][0]["values"][chart["times"].index(chart["now"])] == 12
    assert ORG in listed and "12 / 10 seats" in listed
    assert state.status_code == 200 and "over_limit" in state.text


# Every admin operation on one org, as the panel and `usagemock org ...` call them.
_ORG_OPERATIONS = (
    ("GET", ""),
    ("GET", "/chart"),
    ("POST", "/reset"),
    ("PUT", "/scenario"),
    ("POST", "/ingest"),
    ("PUT", "/fault"),
    ("DELETE", "/fault"),
)


@pytest.mark.usefixtures("seats")
async def test_a_state_holding_its_orgs_served_without_it_refuses_them_and_keeps_them(
    tmp_path: Path,
) -> None:
    """Plain usagemock on the script's state file: its orgs are listed, refused with the fix, kept.

    No 500 anywhere (the listing holds to the admin spec, the panel lists the org without
    reading it), and resetting everything leaves them for the script to serve again.
    """
    state = str(tmp_path / "state.sqlite3")
    async with in_process_client(state=state) as script:
        added = await script.post(f"/_usagemock/orgs/{NAME}/{ORG}/ingest", json={"amount": 3})
        assert added.status_code == 200, added.text
    apis.unregister(NAME)
    try:
        async with in_process_client(state=state) as plain:
            listed = await plain.get("/_usagemock/orgs")
            assert listed.status_code == 200, listed.text
            assert {"api": NAME, "org_id": ORG} in listed.json()
            for method, rest in _ORG_OPERATIONS:
                refused = await plain.request(
                    method, f"/_usagemock/orgs/{NAME}/{ORG}{rest}", json={}
                )
                detail = refused.json()["detail"]
                assert refused.status_code == 400, (method, rest, refused.text)
                assert f"'{NAME}'" in detail and "registers the API" in detail, detail
                assert "another --state" in detail, detail
            panel = await plain.get("/_usagemock/panel/orgs")
            assert panel.status_code == 200 and "Not served here" in panel.text, panel.text
            assert (await plain.delete("/_usagemock/orgs")).status_code == 204
    finally:
        apis.register(FACTS)
    async with in_process_client(state=state) as again:
        kept = await again.get(f"/_usagemock/orgs/{NAME}/{ORG}")
    assert kept.status_code == 200, kept.text
    assert [ingest["amount"] for ingest in kept.json()["record"]["ingests"]] == [3]
