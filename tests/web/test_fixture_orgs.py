"""What a fixtures file says about an org (its name, its first scenario) holds on every path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ACCESS_FIXTURES, MakeClient, bearer

ADMIN = "/_usagemock/orgs"
HEAVY_OVERAGE_USED = 8_000_000  # what heavy_overage starts a Timbal org at


async def record(client: httpx.AsyncClient, api: str, org_id: str) -> dict[str, Any]:
    """The stored or generated record of an org, from the admin API."""
    response = await client.get(f"{ADMIN}/{api}/{org_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["record"]
    return found


async def test_a_scenario_apply_keeps_the_fixture_name(make_client: MakeClient) -> None:
    """Applying a scenario to a named org changes its state, not its name."""
    async with make_client(fixtures=ACCESS_FIXTURES) as client:
        applied = await client.put(f"{ADMIN}/kenbun/org_acme/scenario", json={"name": "past_due"})
        usage = (await client.get("/kenbun/usage", headers=bearer("acme-member"))).json()
    assert applied.status_code == 200, applied.text
    assert applied.json()["record"]["org_name"] == "Acme Corporation"
    assert usage["org_name"] == "Acme Corporation" and usage["subscription_status"] == "past_due"


async def test_an_admin_ingest_or_fault_keeps_the_fixture_name(make_client: MakeClient) -> None:
    """An org first changed by an ingest or a fault keeps the name its fixture gives it."""
    async with make_client(fixtures=ACCESS_FIXTURES) as client:
        await client.post(f"{ADMIN}/kenbun/org_globex/ingest", json={"amount": 5})
        await client.put(f"{ADMIN}/kenbun/org_acme/fault", json={"latency_ms": 1})
        globex = await record(client, "kenbun", "org_globex")
        acme = await record(client, "kenbun", "org_acme")
    assert globex["org_name"] == "Globex Corporation"
    assert acme["org_name"] == "Acme Corporation"


async def test_the_fixture_scenario_starts_an_org_changed_before_any_read(
    make_client: MakeClient,
) -> None:
    """An ingest or a fault into an org nobody read yet lands on top of its fixture scenario."""
    async with make_client(fixtures=ACCESS_FIXTURES) as client:
        ingested = await client.post(f"{ADMIN}/timbal/org_initech/ingest", json={"amount": 1000})
        summary = await client.get(
            "/timbal/orgs/org_initech/billing/overage", headers=bearer("acme-admin")
        )
        faulted = await client.put(f"{ADMIN}/kenbun/org_initech/fault", json={"latency_ms": 1})
    assert ingested.json()["record"]["scenario"] == "heavy_overage"
    assert summary.json()["used_credits"] == HEAVY_OVERAGE_USED + 1000
    assert faulted.json()["record"]["scenario"] == "heavy_overage"
    assert faulted.json()["record"]["org_name"] == "Initech"


async def test_a_reset_org_returns_to_its_fixture_settings(make_client: MakeClient) -> None:
    """After a reset an org is again what the fixtures file says, name and scenario."""
    async with make_client(fixtures=ACCESS_FIXTURES) as client:
        await client.put(f"{ADMIN}/timbal/org_initech/scenario", json={"name": "at_limit"})
        await client.post(f"{ADMIN}/timbal/org_initech/reset")
        summary = await client.get(
            "/timbal/orgs/org_initech/billing/overage", headers=bearer("acme-admin")
        )
    assert summary.json()["used_credits"] == HEAVY_OVERAGE_USED


async def test_a_token_scenario_starts_its_org_on_admin_writes_too(
    make_client: MakeClient, tmp_path: Path
) -> None:
    """A token's scenario is its org's start: an admin ingest before any read lands on top of it."""
    fixtures = tmp_path / "access.yaml"
    fixtures.write_text("tokens:\n  t1: {org: org_t, scenario: past_due}\n  t2: {org: org_u}\n")
    async with make_client(fixtures=fixtures) as client:
        ingested = await client.post(f"{ADMIN}/kenbun/org_t/ingest", json={"amount": 7})
        usage = (await client.get("/kenbun/usage", headers=bearer("t1"))).json()
        other = await record(client, "kenbun", "org_u")
    assert ingested.json()["record"]["scenario"] == "past_due"
    assert usage["subscription_status"] == "past_due"
    assert other["scenario"] is None
