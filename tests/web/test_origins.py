"""The admin API is for its own origin: other pages' requests, preflights and form posts fail."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import MakeClient, bearer

ADMIN = "/_usagemock"
ADVANCE = f"{ADMIN}/clock/advance"
LOCAL = "http://127.0.0.1:8000"  # the mock's own origin in these tests
EVIL = "https://evil.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def allow_headers(headers: httpx.Headers) -> list[str]:
    """The CORS grants in a response's headers."""
    return [name for name in headers if name.lower().startswith("access-control-allow")]


@pytest.mark.parametrize("origin", [EVIL, "http://localhost:3000", "null"])
async def test_admin_preflight_from_another_origin_gets_no_grant(
    make_client: MakeClient, origin: str
) -> None:
    """A preflight from any other origin is refused with no Access-Control-Allow-* header."""
    async with make_client() as client:
        response = await client.options(ADVANCE, headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 403
    assert allow_headers(response.headers) == []
    assert ("--admin-cors" in response.json()["detail"]) == (origin != "null")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": EVIL}, id="other-origin"),
        pytest.param({"Origin": "null"}, id="opaque-origin"),
        pytest.param({"Sec-Fetch-Site": "cross-site"}, id="fetch-metadata-cross-site"),
        pytest.param({"Sec-Fetch-Site": "same-site"}, id="fetch-metadata-same-site"),
        pytest.param(
            {"Origin": "http://evil.example:8000", "Host": "evil.example:8000"},
            id="dns-rebinding",
        ),
    ],
)
async def test_admin_refuses_writes_from_other_pages(
    make_client: MakeClient, headers: dict
) -> None:
    """A write whose Origin or Sec-Fetch-Site names another site is refused; the clock holds."""
    async with make_client() as client:
        before = (await client.get(f"{ADMIN}/clock")).json()
        response = await client.post(ADVANCE, json={"by": "P1D"}, headers=headers)
        after = (await client.get(f"{ADMIN}/clock")).json()
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert allow_headers(response.headers) == []
    assert after == before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (None, b'{"by": "P1D"}'),
        ("text/plain", b'{"by": "P1D"}'),
        ("application/x-www-form-urlencoded", b"by=P1D"),
        ("multipart/form-data; boundary=x", b"--x--"),
    ],
)
async def test_admin_writes_must_say_json(
    make_client: MakeClient, content_type: str | None, body: bytes
) -> None:
    """A body a form or a no-cors fetch can send (not declared JSON) is refused with 415."""
    headers = {"Content-Type": content_type} if content_type else {}
    async with make_client() as client:
        before = (await client.get(f"{ADMIN}/clock")).json()
        response = await client.post(ADVANCE, content=body, headers=headers)
        after = (await client.get(f"{ADMIN}/clock")).json()
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["detail"]
    assert after == before


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": LOCAL, "Sec-Fetch-Site": "same-origin"}, id="own-origin"),
        pytest.param({"Origin": "http://localhost:8000", "Host": "localhost:8000"}, id="localhost"),
        pytest.param({"Origin": "http://[::1]:8000", "Host": "[::1]:8000"}, id="ipv6-loopback"),
        pytest.param({"Sec-Fetch-Site": "none"}, id="typed-by-the-user"),
        pytest.param({}, id="cli-or-curl"),
    ],
)
async def test_admin_takes_its_own_pages_and_non_browser_clients(
    make_client: MakeClient, headers: dict
) -> None:
    """Its own Swagger UI, curl and the CLI (JSON, no foreign origin) still drive the admin API."""
    async with make_client() as client:
        client.base_url = LOCAL
        response = await client.post(ADVANCE, json={"by": "P1D"}, headers=headers)
    assert response.status_code == 200, response.text
    assert allow_headers(response.headers) == []


async def test_admin_docs_open_from_a_link_on_another_site(make_client: MakeClient) -> None:
    """Following a link to the admin docs from another site still shows them."""
    async with make_client() as client:
        ui = await client.get(f"{ADMIN}/ui/", headers={"Sec-Fetch-Site": "cross-site"})
        spec = await client.get(f"{ADMIN}/openapi.json", headers={"Origin": EVIL})
    assert (ui.status_code, spec.status_code) == (200, 200)
    assert allow_headers(spec.headers) == []


async def test_admin_cors_grants_only_the_named_origins(make_client: MakeClient) -> None:
    """With --admin-cors, that origin may preflight and write; any other still may not."""
    named = "http://localhost:3000"
    async with make_client(admin_cors=(named,), admin_token="s3cret") as client:
        preflight = await client.options(ADVANCE, headers={"Origin": named, **PREFLIGHT})
        write = await client.post(
            ADVANCE, json={"by": "P1D"}, headers={"Origin": named, **bearer("s3cret")}
        )
        other = await client.options(ADVANCE, headers={"Origin": EVIL, **PREFLIGHT})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == named
    assert write.status_code == 200 and write.headers["access-control-allow-origin"] == named
    assert other.status_code == 403 and allow_headers(other.headers) == []


async def test_public_apis_keep_open_cors(make_client: MakeClient) -> None:
    """Kenbun and Timbal still answer any origin, which is what a frontend on another port needs."""
    async with make_client() as client:
        preflight = await client.options(
            "/timbal/orgs/o/billing/overage",
            headers={"Origin": EVIL, "Access-Control-Request-Method": "GET"},
        )
        response = await client.get("/kenbun/usage", headers={"Origin": EVIL, **bearer("d")})
    assert preflight.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


async def test_an_opaque_origin_is_not_told_to_use_admin_cors(make_client: MakeClient) -> None:
    """`Origin: null` gets advice that works (docs page, CLI, curl), not an --admin-cors refused."""
    async with make_client() as client:
        response = await client.post(ADVANCE, json={"by": "P1D"}, headers={"Origin": "null"})
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "--admin-cors" not in detail
    assert "opaque origin (sandboxed iframes, file:// pages) cannot be allowed" in detail
    assert "docs page, the CLI or curl" in detail
