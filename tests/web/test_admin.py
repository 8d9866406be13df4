"""The admin API: who may use it, faults it injects, and the mistakes it refuses clearly."""

from __future__ import annotations

import time

import pytest

from tests.conftest import ACCESS_FIXTURES, FIXED_NOW, MakeClient, bearer
from usagemock.apis import names
from usagemock.specs import documented_statuses, load_bundled

ADMIN = "/_usagemock"
ORG = f"{ADMIN}/orgs/timbal/org_f"
TIMBAL = "/timbal/orgs/org_f/billing/overage"


#: (server settings, request headers, status) of the admin gate: open on loopback without a
#: token, locked beyond it, token-only once one is set. The panel's fragments share it.
GATE_CASES = [
    ({}, {}, 200),
    ({"host": "0.0.0.0"}, {}, 403),
    ({"admin_token": "s3cret"}, {}, 401),
    ({"admin_token": "s3cret"}, bearer("wrong"), 401),
    ({"admin_token": "s3cret"}, bearer("s3cret"), 200),
    ({"host": "0.0.0.0", "admin_token": "s3cret"}, bearer("s3cret"), 200),
]


@pytest.mark.parametrize(("settings", "headers", "status"), GATE_CASES)
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


#: How far past its latency plus jitter a faulted answer may come on a busy machine, beyond what
#: the same request to an org without the fault took just before it.
SCHEDULING_SLACK = 0.15


async def test_fault_latency_delays_answers(make_client: MakeClient) -> None:
    """Latency with jitter holds each answer between the fixed delay and delay plus jitter.

    Never early: a sleep does not end before its time. Not late either, measured against the
    same request to an org without the fault, best of five, so a busy machine's pauses (which
    would have to hit all five) do not fail it while a delay held too long still does.
    """
    plain = TIMBAL.replace("org_f", "org_plain")
    extra = []
    async with make_client() as client:
        await client.put(f"{ORG}/fault", json={"latency_ms": 200, "jitter_ms": 50})
        for _ in range(5):
            started = time.monotonic()
            assert (await client.get(plain, headers=bearer("t"))).status_code == 200
            between = time.monotonic()
            response = await client.get(TIMBAL, headers=bearer("t"))
            elapsed = time.monotonic() - between
            assert response.status_code == 200
            assert elapsed >= 0.2, f"answered after {elapsed:.3f} s, before the 0.2 s latency"
            extra.append(elapsed - (between - started))
    assert min(extra) < 0.25 + SCHEDULING_SLACK, f"held past latency plus jitter: {extra}"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("PUT", f"{ORG}/fault", {"status": 200}, 400, "200 is less than the minimum of 400"),
        ("PUT", f"{ORG}/fault", {"status": 400}, 409, "not documented by the timbal API"),
        ("PUT", f"{ADMIN}/orgs/kenbun/org_k/fault", {"status": 500}, 409, "use one of 400, 401"),
        ("POST", f"{ADMIN}/clock/advance", {"by": "3 days"}, 400, "expected: An ISO 8601 duration"),
        ("PUT", f"{ORG}/scenario", {"name": "nope"}, 404, "No scenario named 'nope'"),
        ("PUT", f"{ORG}/scenario", {"name": "trial_active"}, 409, "has nothing for timbal"),
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
    assert response.status_code == 409 and "must agree" in response.json()["detail"]
    assert same.status_code == 200 and same.json()["response"]["enabled"] is False


async def test_reset_returns_an_org_to_its_generated_state(make_client: MakeClient) -> None:
    """Resetting forgets ingests and scenarios: the org answers as the seed made it."""
    async with make_client() as client:
        before = (await client.get(TIMBAL, headers=bearer("t"))).json()
        await client.put(f"{ORG}/scenario", json={"name": "heavy_overage"})
        changed = (await client.get(TIMBAL, headers=bearer("t"))).json()
        listed = (await client.get(f"{ADMIN}/orgs")).json()
        reset = await client.post(f"{ORG}/reset")
        after = (await client.get(TIMBAL, headers=bearer("t"))).json()
    assert changed != before and after == before
    assert reset.status_code == 200 and reset.json()["changed"] is False
    assert reset.json()["response"] == before
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


INT64_MAX = 2**63 - 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ingests": [{"at": "2026-03-01T00:00:00Z", "amount": 2**63}]}, "ingests/0/amount"),
        (
            {"ingests": [{"at": "2026-03-01T00:00:00Z", "amount": 2**62}] * 2},
            "ingests/0/amount",
        ),
        ({"plan": {"rate_cents_per_1k": 10**20}}, "plan/rate_cents_per_1k"),
        ({"plan": {"cap_credits": INT64_MAX}}, "plan/cap_credits"),
        ({"organic": {"per_period": 10**16}}, "organic/per_period"),
        ({"anchor": "0001-01-01T00:00:00Z"}, "anchor"),
        ({"applied_at": ""}, "applied_at"),
        ({"fault": {}}, "fault"),
    ],
)
async def test_record_numbers_and_moments_beyond_what_can_be_served_get_a_400_naming_the_field(
    make_client: MakeClient, change: dict, field: str
) -> None:
    """A record PUT the APIs could not store or serve gets a 400 naming the field, no repr."""
    async with make_client() as client:
        record = (await client.get(ORG)).json()["record"]
        for key, value in change.items():
            record[key] = {**record[key], **value} if isinstance(value, dict) and value else value
        response = await client.put(ORG, json=record)
        after = (await client.get(TIMBAL, headers=bearer("t"))).status_code
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert f"(at '{field}" in detail
    assert "given schemas" not in detail and "'org_id'" not in detail
    assert after == 200


async def test_ingests_stop_before_the_sum_could_leave_int64(make_client: MakeClient) -> None:
    """An ingest that would take an org's ingested total past its bound gets a 409, not a 500."""
    async with make_client() as client:
        record = (await client.get(ORG)).json()["record"]
        record["ingests"] = [{"at": "2026-03-01T00:00:00Z", "amount": 10**12}] * 1000
        assert (await client.put(ORG, json=record)).status_code == 200
        refused = await client.post(f"{ORG}/ingest", json={"amount": 1})
        served = await client.get(TIMBAL, headers=bearer("t"))
    assert refused.status_code == 409, refused.text
    assert "Reset the org or ingest less" in refused.json()["detail"]
    assert served.status_code == 200 and served.json()["used_credits"] <= INT64_MAX


@pytest.mark.parametrize("fault", [{}, {"latency_ms": 0}, {"status": None}, {"rate": 0.5}])
async def test_a_fault_that_does_nothing_is_refused(make_client: MakeClient, fault: dict) -> None:
    """A fault with no status and no latency would be stored and do nothing: a 400 says so."""
    async with make_client() as client:
        response = await client.put(f"{ORG}/fault", json=fault)
        listed = (await client.get(f"{ADMIN}/orgs")).json()
    assert response.status_code == 400, response.text
    assert "A fault must do something" in response.json()["detail"]
    assert listed == []


@pytest.mark.parametrize("step", ["P7000Y", "-P1100Y", "P99999999Y"])
async def test_a_clock_step_leaving_the_calendar_is_a_409(
    make_client: MakeClient, step: str
) -> None:
    """A well-formed step that would take the clock out of the calendar is a 409; it stays put."""
    async with make_client() as client:
        before = (await client.get(f"{ADMIN}/clock")).json()
        response = await client.post(f"{ADMIN}/clock/advance", json={"by": step})
        after = (await client.get(f"{ADMIN}/clock")).json()
    assert response.status_code == 409, response.text
    assert "years 1000 to 8999" in response.json()["detail"]
    assert after == before


@pytest.mark.parametrize(
    "now", ["0999-12-31T23:59:59Z", "9000-01-01T00:00:00Z", "2026-02-30T00:00:00Z"]
)
async def test_a_clock_moment_outside_the_calendar_is_a_400(
    make_client: MakeClient, now: str
) -> None:
    """PUT /clock with a moment outside years 1000-8999 is refused by the schema, naming it."""
    async with make_client() as client:
        response = await client.put(f"{ADMIN}/clock", json={"now": now})
    assert response.status_code == 400, response.text
    assert "(at 'now')" in response.json()["detail"]


async def test_reset_is_not_a_delete_and_the_org_still_answers(make_client: MakeClient) -> None:
    """Reset is POST .../reset (the org still exists afterwards); DELETE on an org is a 405."""
    async with make_client() as client:
        await client.post(f"{ORG}/ingest", json={"amount": 5})
        deleted = await client.delete(ORG)
        reset = await client.post(f"{ORG}/reset")
        view = await client.get(ORG)
    assert deleted.status_code == 405
    assert reset.status_code == 200 and reset.json() == view.json()
    assert view.json()["changed"] is False


def test_the_fault_status_description_names_each_apis_error_statuses() -> None:
    """The admin spec tells each API's fault statuses apart, as its 409 does."""
    status = load_bundled("admin")["components"]["schemas"]["Fault"]["properties"]["status"]
    description = " ".join(status["description"].split())
    for api in names():
        errors = sorted(s for s in documented_statuses(load_bundled(api)) if s >= 400)
        assert f"{api.capitalize()} {', '.join(map(str, errors))}" in description


HUGE = "1" + "0" * 5000  # past Python's 4,300-digit limit on int() of a string


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"{ADMIN}/orgs/kenbun/org_demo/ingest", f'{{"amount": {HUGE}}}'),
        ("PUT", f"{ORG}/fault", f'{{"latency_ms": {HUGE}}}'),
        ("PUT", f"{ORG}/scenario", f'{{"name": {HUGE}}}'),
        ("PUT", f"{ORG}/fault", '{"latency_ms": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ],
    ids=["ingest-huge-int", "fault-huge-int", "scenario-huge-int", "deep-nesting"],
)
async def test_an_undecodable_json_body_is_a_400_naming_the_problem(
    make_client: MakeClient, method: str, path: str, body: str
) -> None:
    """A body JSON cannot decode (an integer past 4,300 digits, deep nesting) is a 400."""
    async with make_client() as client:
        response = await client.request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert "Request body is not JSON usagemock can read" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "own"),
    [(f"{ORG}/fault", "401, 403, 500"), (f"{ADMIN}/orgs/kenbun/org_k/fault", "400, 401")],
)
async def test_an_undocumented_fault_status_names_only_the_apis_own(
    make_client: MakeClient, path: str, own: str
) -> None:
    """A fault status the org's API does not document is refused listing that API's statuses."""
    async with make_client() as client:
        response = await client.put(path, json={"status": 404})
    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    assert detail.endswith(f"use one of {own}.") and "None" not in detail


async def test_clock_reset_returns_to_real_time_running(make_client: MakeClient) -> None:
    """POST /clock/reset undoes a set, a freeze and an advance: the clock follows real time."""
    async with make_client() as client:
        await client.put(f"{ADMIN}/clock", json={"now": "2031-05-01T00:00:00Z", "frozen": True})
        await client.post(f"{ADMIN}/clock/advance", json={"by": "P3D"})
        reset = await client.post(f"{ADMIN}/clock/reset")
        after = (await client.get(f"{ADMIN}/clock")).json()
    assert reset.status_code == 200, reset.text
    assert reset.json()["frozen"] is False and reset.json()["offset_seconds"] == 0.0
    assert after["frozen"] is False and after["offset_seconds"] == 0.0
    assert after["now"].startswith(FIXED_NOW.strftime("%Y-%m-%dT%H:%M:%S"))  # the machine's time
