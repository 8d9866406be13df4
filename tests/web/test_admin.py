"""The admin API: who may use it, faults it injects, and the mistakes it refuses clearly."""

from __future__ import annotations

import time

import pytest

from tests.conftest import ACCESS_FIXTURES, MakeClient, bearer

ADMIN = "/_usagemock"
ORG = f"{ADMIN}/orgs/timbal/org_f"
TIMBAL = "/timbal/orgs/org_f/billing/overage"


@pytest.mark.parametrize(
    ("settings", "headers", "status"),
    [
        ({}, {}, 200),
        ({"host": "0.0.0.0"}, {}, 403),
        ({"admin_token": "s3cret"}, {}, 401),
        ({"admin_token": "s3cret"}, bearer("wrong"), 401),
        ({"admin_token": "s3cret"}, bearer("s3cret"), 200),
        ({"host": "0.0.0.0", "admin_token": "s3cret"}, bearer("s3cret"), 200),
    ],
)
async def test_admin_access_depends_on_binding_and_token(
    make_client: MakeClient, settings: dict, headers: dict, status: int
) -> None:
    """Open on loopback without a token, locked beyond it, and token-only once one is set."""
    async with make_client(**settings) as client:
        response = await client.get(f"{ADMIN}/clock", headers=headers)
        docs = await client.get(f"{ADMIN}/openapi.json")
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]
    assert docs.status_code == 200, "the docs stay readable so a locked API explains itself"


async def test_fault_status_and_rate_shape_the_api_answers(make_client: MakeClient) -> None:
    """A 403 fault at rate 1 refuses every request; cleared, the org answers again."""
    async with make_client() as client:
        assert (await client.put(f"{ORG}/fault", json={"status": 403})).status_code == 200
        refused = await client.get(TIMBAL, headers=bearer("t"))
        assert (await client.delete(f"{ORG}/fault")).status_code == 200
        served = await client.get(TIMBAL, headers=bearer("t"))
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    assert "a fault set on this org" in refused.json()["message"]
    assert served.status_code == 200


async def test_fault_rate_fails_about_that_share(make_client: MakeClient) -> None:
    """An error rate of 0.5 fails roughly half the requests, and only with that status."""
    async with make_client() as client:
        await client.put(f"{ORG}/fault", json={"status": 500, "rate": 0.5})
        statuses = [(await client.get(TIMBAL, headers=bearer("t"))).status_code for _ in range(200)]
    assert set(statuses) == {200, 500}
    assert 60 <= statuses.count(500) <= 140


async def test_fault_latency_delays_answers(make_client: MakeClient) -> None:
    """Latency with jitter holds each answer between the fixed delay and delay plus jitter."""
    async with make_client() as client:
        await client.put(f"{ORG}/fault", json={"latency_ms": 200, "jitter_ms": 100})
        started = time.monotonic()
        response = await client.get(TIMBAL, headers=bearer("t"))
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert 0.2 <= elapsed < 1.0


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("PUT", f"{ORG}/fault", {"status": 404}, 400, "not documented by the timbal API"),
        ("PUT", f"{ADMIN}/orgs/kenbun/org_k/fault", {"status": 500}, 400, "use one of 400, 401"),
        ("POST", f"{ADMIN}/clock/advance", {"by": "3 days"}, 400, "not an ISO 8601 duration"),
        ("PUT", f"{ORG}/scenario", {"name": "nope"}, 404, "No scenario named 'nope'"),
        ("PUT", f"{ORG}/scenario", {"name": "trial_active"}, 400, "has nothing for timbal"),
        ("GET", f"{ADMIN}/scenarios/nope", None, 404, "loaded:"),
        ("POST", f"{ORG}/ingest", {"amount": -5}, 400, "minimum"),
    ],
)
async def test_admin_mistakes_get_4xx_that_say_why(
    make_client: MakeClient, method: str, path: str, body: dict | None, status: int, says: str
) -> None:
    """Bad admin requests get a 4xx problem whose detail names the fix, never a 5xx."""
    async with make_client() as client:
        response = await client.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]


async def test_replacing_a_record_must_name_the_same_org(make_client: MakeClient) -> None:
    """A record PUT to another org's path is refused rather than stored under the wrong key."""
    async with make_client() as client:
        record = (await client.get(ORG)).json()["record"]
        response = await client.put(f"{ADMIN}/orgs/timbal/org_other", json=record)
        same = await client.put(
            ORG, json={**record, "plan": {**record["plan"], "overage_enabled": False}}
        )
    assert response.status_code == 400 and "must agree" in response.json()["detail"]
    assert same.status_code == 200 and same.json()["response"]["enabled"] is False


async def test_reset_returns_an_org_to_its_generated_state(make_client: MakeClient) -> None:
    """Resetting forgets ingests and scenarios: the org answers as the seed made it."""
    async with make_client() as client:
        before = (await client.get(TIMBAL, headers=bearer("t"))).json()
        await client.put(f"{ORG}/scenario", json={"name": "heavy_overage"})
        changed = (await client.get(TIMBAL, headers=bearer("t"))).json()
        listed = (await client.get(f"{ADMIN}/orgs")).json()
        assert (await client.delete(ORG)).status_code == 204
        after = (await client.get(TIMBAL, headers=bearer("t"))).json()
    assert changed != before and after == before
    assert {"api": "timbal", "org_id": "org_f"} in listed


async def test_fixtures_start_an_org_in_its_scenario(make_client: MakeClient) -> None:
    """An org the fixtures file maps to a scenario answers from that scenario from first read."""
    async with make_client(fixtures=ACCESS_FIXTURES) as client:
        body = (
            await client.get(
                "/timbal/orgs/org_initech/billing/overage", headers=bearer("acme-admin")
            )
        ).json()
    assert body["used_credits"] == 8_000_000  # heavy_overage


async def test_default_scenario_applies_to_every_new_org(make_client: MakeClient) -> None:
    """`--scenario NAME` starts every org the mock has not seen in that scenario."""
    async with make_client(scenario="past_due") as client:
        statuses = {
            (await client.get("/kenbun/usage", headers=bearer(f"t{i}"))).json()[
                "subscription_status"
            ]
            for i in range(5)
        }
    assert statuses == {"past_due"}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_admin_token_scheme_is_case_insensitive(make_client: MakeClient, scheme: str) -> None:
    """The admin API reads the bearer scheme in any case, as the public APIs do (RFC 9110)."""
    async with make_client(admin_token="s3cret") as client:
        response = await client.get(f"{ADMIN}/clock", headers={"Authorization": f"{scheme} s3cret"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("settings", [{"admin_token": "s3cret"}, {}])
@pytest.mark.parametrize(
    "values",
    [["Bearer s3cret", "Bearer wrong"], ["Bearer wrong", "Bearer s3cret"], ["Bearer s3cret"] * 2],
)
async def test_admin_refuses_several_authorization_headers(
    make_client: MakeClient, settings: dict, values: list[str]
) -> None:
    """Two Authorization headers are refused (401, invalid_request) with or without a token set."""
    async with make_client(**settings) as client:
        response = await client.put(
            f"{ADMIN}/clock",
            json={"frozen": True},
            headers=[("Authorization", v) for v in values],
        )
        clock = (await client.get(f"{ADMIN}/clock", headers=bearer("s3cret"))).json()
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="admin", error="invalid_request"'
    assert clock["frozen"] is False


async def test_admin_401_names_the_realm_and_a_rejected_token(make_client: MakeClient) -> None:
    """The admin API's 401 challenge is RFC 6750's: realm, and invalid_token for a wrong one."""
    async with make_client(admin_token="s3cret") as client:
        missing = await client.get(f"{ADMIN}/clock")
        wrong = await client.get(f"{ADMIN}/clock", headers=bearer("nope"))
    assert missing.headers["www-authenticate"] == 'Bearer realm="admin"'
    assert wrong.headers["www-authenticate"] == 'Bearer realm="admin", error="invalid_token"'
