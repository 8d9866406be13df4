"""Every error is JSON in the API's documented shape: unknown paths, wrong methods, bad input."""

from __future__ import annotations

import pytest
from connexion.exceptions import ProblemException

from tests.conftest import MakeClient, bearer
from usagemock.web.handlers import keep_rules


@pytest.mark.parametrize(
    ("path", "content_type", "field"),
    [
        ("/timbal/nope", "application/json", "code"),
        ("/kenbun/nope", "application/problem+json", "detail"),
        ("/nope", "application/json", "code"),
        ("/", "application/json", "code"),
        ("/timbal/orgs//billing/overage", "application/json", "code"),
    ],
)
async def test_unknown_paths_get_json_404(
    make_client: MakeClient, path: str, content_type: str, field: str
) -> None:
    """Unknown paths answer 404 with a JSON body, never HTML."""
    async with make_client() as client:
        response = await client.get(path, headers=bearer("demo"))
    assert response.status_code == 404
    assert response.headers["content-type"] == content_type
    assert response.json()[field]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/timbal/orgs/o/billing/overage", "/kenbun/usage"])
async def test_wrong_methods_get_405_with_allow(
    make_client: MakeClient, method: str, path: str
) -> None:
    """A method the path does not serve gets 405, an Allow header and a JSON body."""
    async with make_client() as client:
        response = await client.request(method, path, headers=bearer("demo"))
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert response.headers["content-type"].endswith("json")
    response.json()


@pytest.mark.parametrize("api", ["timbal", "kenbun"])
async def test_single_api_mode_serves_at_the_root(make_client: MakeClient, api: str) -> None:
    """`--api NAME` serves that API at the root, so a frontend only changes its base URL."""
    path = "/usage" if api == "kenbun" else "/orgs/org_1/billing/overage"
    async with make_client(api=api) as client:
        assert (await client.get(path, headers=bearer("demo"))).status_code == 200
        assert (await client.get(f"/{api}{path}", headers=bearer("demo"))).status_code == 404


@pytest.mark.parametrize("api", ["timbal", "kenbun"])
async def test_swagger_ui_and_spec_are_served_per_api(make_client: MakeClient, api: str) -> None:
    """Each API has its Swagger UI and serves its own 3.1 document unchanged."""
    async with make_client() as client:
        ui = await client.get(f"/{api}/ui/")
        spec = await client.get(f"/{api}/openapi.json")
    assert ui.status_code == 200 and "swagger-ui" in ui.text
    assert spec.json()["openapi"] == "3.1.0"


@pytest.mark.parametrize(
    "org_id",
    ["%2F", "a%2Fb", "%E2%9C%93", "x" * 4000, "%00", "..", "org id with spaces", "%25", "%0A"],
)
async def test_odd_org_ids_are_orgs_like_any_other(make_client: MakeClient, org_id: str) -> None:
    """Encoded slashes, non-ASCII, very long or odd ids are orgs like any other: 200."""
    async with make_client() as client:
        response = await client.get(f"/timbal/orgs/{org_id}/billing/overage", headers=bearer("d"))
    # '..' is resolved by the URL itself (/timbal/orgs/../billing/overage): no such route
    assert response.status_code == (404 if org_id == ".." else 200), response.text
    response.json()


async def test_an_encoded_slash_is_part_of_the_org_id(make_client: MakeClient) -> None:
    """`org%2Fslash` is the org 'org/slash', in the API and in the admin API alike."""
    async with make_client() as client:
        await client.put(
            "/_usagemock/orgs/timbal/org%2Fslash/scenario", json={"name": "cap_reached"}
        )
        listed = (await client.get("/_usagemock/orgs")).json()
        body = (
            await client.get("/timbal/orgs/org%2Fslash/billing/overage", headers=bearer("d"))
        ).json()
    assert {"api": "timbal", "org_id": "org/slash"} in listed
    assert body["used_credits"] == body["cap_credits"] == 500_000


async def test_browsers_may_call_the_mock_from_another_origin(make_client: MakeClient) -> None:
    """A frontend on another port gets CORS answers: preflight allowed, Authorization accepted."""
    origin = {"Origin": "http://localhost:3000"}
    async with make_client() as client:
        preflight = await client.options(
            "/kenbun/usage",
            headers={
                **origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        response = await client.get("/kenbun/usage", headers={**origin, **bearer("demo")})
    assert preflight.status_code == 200
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert response.headers["access-control-allow-origin"] == "*"


async def test_a_newline_in_an_org_id_still_reaches_the_operation(make_client: MakeClient) -> None:
    """An org id with a newline is routed (200 with a token, 401 without), not a stray 404."""
    async with make_client(api="timbal") as client:
        with_token = await client.get("/orgs/%0A/billing/overage", headers=bearer("t"))
        without = await client.get("/orgs/a%0Ab/billing/overage")
    assert (with_token.status_code, without.status_code) == (200, 401)


def test_a_body_that_breaks_a_documented_rule_never_leaves() -> None:
    """With response validation on, the mock refuses to send a body that breaks a rule (500)."""
    good = {"monthly_events": 10, "free_tier_limit": 10, "overage": False}
    assert keep_rules("kenbun", good) is good
    with pytest.raises(ProblemException, match="overage_flag"):
        keep_rules("kenbun", {**good, "overage": True})
