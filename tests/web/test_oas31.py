"""The OpenAPI 3.1 adapter: loading, 2020-12 request and response validation, Swagger UI."""

from __future__ import annotations

import functools
import string
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from connexion import AsyncApp
from connexion.context import request
from connexion.exceptions import InvalidSpecification
from connexion.resolver import Resolver
from hypothesis import example, given, settings
from hypothesis import strategies as st

from usagemock.errors import SpecError
from usagemock.web import oas31
from usagemock.web.oas31 import (
    ORIGINAL_SCHEMA,
    ResponseValidator,
    add_api,
    casting_view,
    coercion_view,
    compiled,
    load_specification,
)

SPECS = Path(__file__).parent / "oas31_specs"

# Each request through connexion takes a few milliseconds; 50 examples keep a property near 0.5 s.
PROPERTY = settings(max_examples=50, deadline=None)


# Handlers: each echoes what connexion handed it, so a test sees the coerced Python values.


def echo_items(item_id: Any, limit: Any = None) -> dict[str, Any]:
    """Echo the path and query values, and the X-Page header as the handler sees it."""
    return {"item_id": item_id, "limit": limit, "x_page": request.headers.get("x-page")}


def echo_pages_query(size: Any = None) -> dict[str, Any]:
    """Echo the query page size."""
    return {"size": size}


def echo_pages_path(size: Any) -> dict[str, Any]:
    """Echo the path page size."""
    return {"size": size}


def echo_events(since: Any = None, contact: Any = None, event_id: Any = None) -> dict[str, Any]:
    """Echo the formatted query values."""
    return {"since": since, "contact": contact, "event_id": event_id}


def echo_reports(since: Any) -> dict[str, Any]:
    """Echo the required query value."""
    return {"since": since}


def echo_order(body: Any) -> tuple[Any, int]:
    """Echo the request body with 201."""
    return body, 201


def echo_top_up(body: Any) -> tuple[Any, int]:
    """Echo the form body with 201."""
    return body, 201


VALID_ACCOUNT = {"id": "acc_1", "nickname": "ada", "created_at": "2026-03-01T00:00:00Z"}
ACCOUNTS: dict[str, dict[str, Any]] = {
    "valid": VALID_ACCOUNT,
    "null_nickname": {**VALID_ACCOUNT, "nickname": None},
    "numeric_nickname": {**VALID_ACCOUNT, "nickname": 5},
    "vague_created_at": {**VALID_ACCOUNT, "created_at": "yesterday"},
    "leaks_password": {**VALID_ACCOUNT, "password": "hunter2"},
}


def canned_account(case: str) -> dict[str, Any]:
    """Answer the canned account named by the path, valid or not."""
    return ACCOUNTS[case]


HANDLERS = {
    handler.__name__: handler
    for handler in (
        echo_items,
        echo_pages_query,
        echo_pages_path,
        echo_events,
        echo_reports,
        echo_order,
        echo_top_up,
        canned_account,
    )
}


def new_app(source: Path | Mapping[str, Any]) -> AsyncApp:
    """A fresh AsyncApp serving ``source`` through the adapter, response validation on."""
    app = AsyncApp(__name__)
    add_api(
        app,
        source,
        resolver=Resolver(function_resolver=HANDLERS.__getitem__),
        validate_responses=True,
    )
    return app


@functools.cache
def served(spec: str) -> AsyncApp:
    """One app per fixture spec, shared by tests and hypothesis examples (it holds no state)."""
    return new_app(SPECS / spec)


async def call(spec: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send one request to the app serving ``spec``, in-process."""
    transport = httpx.ASGITransport(app=served(spec))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, url, **kwargs)


def problem(response: httpx.Response, status: int) -> str:
    """Assert ``response`` is an RFC 7807 problem with ``status``; return its detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail: str = response.json()["detail"]
    return detail


# Loading


def test_stock_connexion_refuses_a_31_document_that_the_adapter_loads() -> None:
    """Stock ``AsyncApp.add_api`` rejects OpenAPI 3.1, which is why the adapter exists."""
    with pytest.raises(InvalidSpecification, match=r"3\.1\.0"):
        AsyncApp(__name__).add_api(SPECS / "nullable.yaml")
    new_app(SPECS / "nullable.yaml")  # no exception


async def test_a_31_mapping_loads_without_mutating_the_callers_document() -> None:
    """A parsed document serves requests, and connexion's defaults land on a copy, not on it."""
    document = yaml.safe_load((SPECS / "nullable.yaml").read_text())
    pristine = yaml.safe_load((SPECS / "nullable.yaml").read_text())
    app = new_app(document)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/items/1")
    assert response.status_code == 200, response.text
    assert document == pristine


@pytest.mark.parametrize(
    ("spec", "pointer"),
    [
        ("invalid/unknown_type.yaml", "#/paths/~1items/get/parameters/0/schema/type"),
        (
            "invalid/dangling_ref.yaml",
            "#/paths/~1items/get/responses/200/content/application~1json/schema/$ref",
        ),
        (
            "invalid/external_ref.yaml",
            "#/paths/~1items/get/responses/200/content/application~1json/schema/$ref",
        ),
    ],
)
def test_an_invalid_31_document_raises_spec_error_naming_file_and_pointer(
    spec: str, pointer: str
) -> None:
    """An invalid 3.1 document fails to load with a SpecError naming the file and a JSON pointer."""
    with pytest.raises(SpecError) as caught:
        new_app(SPECS / spec)
    message = str(caught.value)
    assert message.startswith(f"{SPECS / spec}: not a valid OpenAPI 3.1 document")
    assert f"{pointer}: " in message


def test_a_30_document_is_refused_with_the_version_it_found() -> None:
    """A 3.0 document is refused, saying 3.1.x was expected and which version it found."""
    with pytest.raises(
        SpecError, match=r"#/openapi: expected an OpenAPI 3\.1\.x document, found '3\.0\.3'"
    ):
        new_app(SPECS / "invalid/openapi_30.yaml")


async def test_adding_an_api_after_the_app_started_is_refused() -> None:
    """Once the middleware stack is built, ``add_api`` raises instead of being silently ignored."""
    app = new_app(SPECS / "nullable.yaml")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/items/1")
    with pytest.raises(RuntimeError, match="after the application has started"):
        add_api(app, SPECS / "formats.yaml")


# Parameters typed [integer, "null"]


async def test_nullable_integer_path_query_and_header_are_coerced_and_accepted() -> None:
    """``"5"`` in a path, query or header typed ``[integer, "null"]`` passes; handlers get ints."""
    response = await call("nullable.yaml", "GET", "/items/3?limit=5", headers={"X-Page": "7"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"item_id": 3, "limit": 5, "x_page": "7"}
    assert type(body["item_id"]) is int
    assert type(body["limit"]) is int


async def test_an_absent_nullable_query_parameter_reaches_the_handler_as_none() -> None:
    """An optional ``[integer, "null"]`` query parameter left out arrives as ``None``."""
    response = await call("nullable.yaml", "GET", "/items/3")
    assert response.status_code == 200, response.text
    assert response.json()["limit"] is None


@pytest.mark.parametrize(
    ("url", "headers", "where"),
    [
        ("/items/x", {}, "path parameter 'item_id'"),
        ("/items/-x", {}, "path parameter 'item_id'"),
        ("/items/3?limit=x", {}, "query parameter 'limit'"),
        ("/items/3?limit=2.5", {}, "query parameter 'limit'"),
        ("/items/3?limit=null", {}, "query parameter 'limit'"),
        ("/items/3", {"X-Page": "x"}, "header parameter 'X-Page'"),
    ],
)
async def test_a_non_integer_nullable_parameter_is_a_400_naming_it(
    url: str, headers: dict[str, str], where: str
) -> None:
    """A value that is not an integer gets a 400 problem naming the parameter and its types."""
    detail = problem(await call("nullable.yaml", "GET", url, headers=headers), 400)
    assert detail.startswith(f"Invalid {where}: ")
    assert "is not of type 'integer', 'null'" in detail


@PROPERTY
@given(number=st.integers())
async def test_any_integer_round_trips_through_nullable_path_and_query(number: int) -> None:
    """Every integer, negative or huge, reaches the handler as that int from path and query."""
    response = await call("nullable.yaml", "GET", f"/items/{number}?limit={number}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["item_id"], body["limit"]) == (number, number)
    assert type(body["item_id"]) is int
    assert type(body["limit"]) is int


# Parameters with oneOf and no type


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/pages?size=4", 4),
        ("/pages?size=all", "all"),
        ("/pages/4", 4),
        ("/pages/all", "all"),
    ],
)
async def test_a_one_of_parameter_reaches_the_handler_as_the_branch_it_matched(
    url: str, expected: int | str
) -> None:
    """A ``oneOf`` integer-or-``"all"`` parameter hands the handler an int or the string."""
    response = await call("one_of.yaml", "GET", url)
    assert response.status_code == 200, response.text
    size = response.json()["size"]
    assert size == expected
    assert type(size) is type(expected)


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("/pages?size=0", "query parameter 'size'"),
        ("/pages?size=some", "query parameter 'size'"),
        ("/pages/0", "path parameter 'size'"),
        ("/pages/some", "path parameter 'size'"),
    ],
)
async def test_a_value_matching_no_one_of_branch_is_a_400_naming_the_parameter(
    url: str, where: str
) -> None:
    """A value no ``oneOf`` branch accepts gets a 400 naming the parameter and why."""
    detail = problem(await call("one_of.yaml", "GET", url), 400)
    assert detail.startswith(f"Invalid {where}: ")
    assert "less than the minimum of 1" in detail or "matches none of the forms" in detail


# Formats


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("since", "2026-03-01T00:00:00Z"),
        ("since", "2026-03-01T09:30:00.125+05:30"),
        ("contact", "billing@example.com"),
        ("event_id", "6f1c2b1e-8a4e-4d8b-9c3e-2f1a0b9c8d7e"),
    ],
)
async def test_a_well_formed_formatted_query_value_is_accepted(name: str, value: str) -> None:
    """Values matching ``date-time``, ``email`` or ``uuid`` pass and reach the handler as text."""
    response = await call("formats.yaml", "GET", "/events", params={name: value})
    assert response.status_code == 200, response.text
    assert response.json()[name] == value


@pytest.mark.parametrize(
    ("name", "value", "format_"),
    [
        ("since", "yesterday", "date-time"),
        ("since", "2026-03-01", "date-time"),
        ("since", "2026-03-01T00:00:00", "date-time"),
        ("contact", "billing.example.com", "email"),
        ("event_id", "6f1c2b1e", "uuid"),
    ],
)
async def test_a_malformed_formatted_query_value_is_a_400_naming_parameter_and_format(
    name: str, value: str, format_: str
) -> None:
    """A value breaking ``date-time``, ``email`` or ``uuid`` gets a 400 naming name and format."""
    response = await call("formats.yaml", "GET", "/events", params={name: value})
    detail = problem(response, 400)
    assert detail == f"Invalid query parameter '{name}': {value!r} is not a {format_!r}"


async def test_a_missing_required_query_parameter_is_a_400_naming_it() -> None:
    """Leaving out a required query parameter gets a 400 naming it."""
    detail = problem(await call("formats.yaml", "GET", "/reports"), 400)
    assert detail == "Missing query parameter 'since'"


@PROPERTY
@given(text=st.text(st.characters(codec="utf-8", exclude_characters=string.digits)))
async def test_any_text_without_ascii_digits_is_refused_as_a_date_time(text: str) -> None:
    """Text with no ASCII digit can never be RFC 3339, so the ``date-time`` param refuses it."""
    response = await call("formats.yaml", "GET", "/events", params={"since": text})
    assert "query parameter 'since'" in problem(response, 400)


offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@PROPERTY
@given(moment=st.datetimes(timezones=st.one_of(st.just(UTC), offsets)))
async def test_any_rfc3339_timestamp_is_accepted_as_a_date_time(moment: datetime) -> None:
    """Every aware datetime written in ISO 8601 extended form passes the ``date-time`` param."""
    stamp = moment.isoformat()
    response = await call("formats.yaml", "GET", "/events", params={"since": stamp})
    assert response.status_code == 200, response.text
    assert response.json()["since"] == stamp


# JSON request bodies with 2020-12 keywords

ORDER = {"kind": "usage", "amount": 0.5, "line": ["api_calls", 1200]}


@pytest.mark.parametrize(
    "body",
    [
        ORDER,
        {**ORDER, "note": None},
        {**ORDER, "note": "rush"},
        {**ORDER, "card_number": "4242", "card_expiry": "12/30"},
        {**ORDER, "line": ["api_calls"]},
    ],
)
async def test_a_body_meeting_every_2020_12_keyword_reaches_the_handler(
    body: dict[str, Any],
) -> None:
    """A body honouring const, prefixItems, dependentRequired and type arrays is accepted."""
    response = await call("bodies.yaml", "POST", "/orders", json=body)
    assert response.status_code == 201, response.text
    assert response.json() == body


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({**ORDER, "kind": "seat"}, "'usage' was expected (at 'kind')"),
        ({**ORDER, "amount": 0}, "0 is less than or equal to the minimum of 0 (at 'amount')"),
        ({**ORDER, "line": ["api_calls", "1200"]}, "'1200' is not of type 'integer' (at 'line/1')"),
        ({**ORDER, "line": ["api_calls", 1, 2]}, "Expected at most 2 items but found 1 extra"),
        ({**ORDER, "card_number": "4242"}, "'card_expiry' is a dependency of 'card_number'"),
        ({**ORDER, "note": 5}, "5 is not of type 'string', 'null' (at 'note')"),
    ],
    ids=["const", "exclusiveMinimum", "prefixItems", "items-false", "dependentRequired", "null"],
)
async def test_a_body_breaking_a_2020_12_keyword_is_a_400_saying_where(
    body: dict[str, Any], detail: str
) -> None:
    """Each 2020-12 keyword Draft 4 ignores is enforced, and the 400 says which value failed."""
    response = await call("bodies.yaml", "POST", "/orders", json=body)
    assert problem(response, 400).startswith(f"Request body: {detail}")


async def test_a_null_body_for_a_required_non_nullable_body_is_a_400() -> None:
    """A JSON ``null`` where an object body is required is refused as empty."""
    response = await call(
        "bodies.yaml",
        "POST",
        "/orders",
        content=b"null",
        headers={"content-type": "application/json"},
    )
    assert problem(response, 400) == "Request body must not be empty"


async def test_a_form_field_is_coerced_for_the_handler() -> None:
    """A form field typed ``integer`` arrives at the handler as an int."""
    response = await call("bodies.yaml", "POST", "/top-ups", data={"credits": "5"})
    assert response.status_code == 201, response.text
    assert response.json() == {"credits": 5}


async def test_a_form_field_breaking_numeric_exclusive_minimum_is_a_400() -> None:
    """Form bodies are validated with 2020-12 too: ``exclusiveMinimum: 0`` refuses 0."""
    response = await call("bodies.yaml", "POST", "/top-ups", data={"credits": "0"})
    assert "0 is less than or equal to the minimum of 0" in problem(response, 400)


@pytest.mark.xfail(
    reason="connexion casts form fields for the handler from operation.body_schema(), which "
    "the form validator also parses with; a type array there is unhashable (500). The "
    "project's specs have no form bodies, so the adapter does not work around it yet.",
    raises=AssertionError,
)
async def test_a_form_field_typed_with_a_type_array_reaches_the_handler() -> None:
    """A form field typed ``[string, "null"]`` is accepted and handed over as text."""
    response = await call("bodies.yaml", "POST", "/top-ups", data={"credits": "5", "memo": "hi"})
    assert response.status_code == 201, response.text


# Response validation


@pytest.mark.parametrize("case", ["valid", "null_nickname"])
async def test_a_conforming_response_passes_including_null_for_a_nullable_field(case: str) -> None:
    """A handler's valid account, with ``nickname`` a string or ``null``, goes out unchanged."""
    response = await call("responses.yaml", "GET", f"/accounts/{case}")
    assert response.status_code == 200, response.text
    assert response.json() == ACCOUNTS[case]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("numeric_nickname", "5 is not of type 'string', 'null' (at 'nickname')"),
        ("vague_created_at", "'yesterday' is not a 'date-time' (at 'created_at')"),
        (
            "leaks_password",
            "Property is write-only and must not appear in a response (at 'password')",
        ),
    ],
)
async def test_a_non_conforming_response_becomes_a_500_saying_why(case: str, reason: str) -> None:
    """A wrong type, a bad ``date-time`` or a ``writeOnly`` field in a response answers 500."""
    detail = problem(await call("responses.yaml", "GET", f"/accounts/{case}"), 500)
    assert detail == f"Response body does not conform to specification. {reason}"


# Swagger UI and the served document


async def test_swagger_ui_serves_html() -> None:
    """``/ui/`` answers the Swagger UI page."""
    response = await call("responses.yaml", "GET", "/ui/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in response.text


async def test_openapi_json_is_the_31_document_as_written() -> None:
    """``/openapi.json`` keeps version, info and paths (type arrays included) as written."""
    # connexion itself inlines $refs and adds ``servers`` and empty ``components``; a document
    # without refs shows that the adapter leaves the rest, and its parameter views, out of it.
    response = await call("nullable.yaml", "GET", "/openapi.json")
    assert response.status_code == 200
    served_document = response.json()
    written = yaml.safe_load((SPECS / "nullable.yaml").read_text())
    assert served_document["openapi"] == "3.1.0"
    assert {key: served_document[key] for key in written} == written
    assert ORIGINAL_SCHEMA not in response.text


# coercion_view: what connexion's URI parser coerces query, path and header strings to


@pytest.mark.parametrize(
    ("schema", "expected_type"),
    [
        ({"type": ["integer", "null"]}, "integer"),
        ({"type": ["null", "number"]}, "number"),
        ({"type": ["null"]}, "null"),
        ({"type": "boolean"}, "boolean"),
        ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, "integer"),
        ({"anyOf": [{"type": ["number", "null"]}, {"type": "string"}]}, "number"),
        ({"oneOf": [{"type": "string"}, {"const": "all"}]}, "string"),
        ({"enum": ["a", "b"]}, "string"),
    ],
)
def test_coercion_view_names_one_type(schema: dict[str, Any], expected_type: str) -> None:
    """Type arrays drop ``null``; a missing type takes the first non-string branch, else string."""
    assert coercion_view(schema)["type"] == expected_type


def test_coercion_view_recurses_into_items_and_properties() -> None:
    """Array items and object properties get one type name each, at every depth."""
    schema = {
        "type": ["array", "null"],
        "items": {
            "type": "object",
            "properties": {
                "count": {"type": ["integer", "null"]},
                "tags": {"type": "array", "items": {"oneOf": [{"type": "boolean"}]}},
            },
        },
    }
    view = coercion_view(schema)
    assert view["type"] == "array"
    assert view["items"]["properties"]["count"]["type"] == "integer"
    assert view["items"]["properties"]["tags"]["items"]["type"] == "boolean"


def test_coercion_view_leaves_the_original_schema_alone() -> None:
    """The view is a copy: the schema validation runs against keeps its type arrays."""
    schema = {"type": ["integer", "null"], "items": {"type": ["string", "null"]}}
    coercion_view(schema)
    assert schema == {"type": ["integer", "null"], "items": {"type": ["string", "null"]}}


def test_coercion_view_passes_boolean_schemas_through() -> None:
    """A boolean schema such as ``items: false`` has no type to pick and is returned as is."""
    assert coercion_view(False) is False
    assert coercion_view({"type": "array", "items": False})["items"] is False


# casting_view: what connexion's router and handler-argument casting read


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": ["integer", "null"]}, {"type": "integer"}),
        ({"type": "string", "format": "date-time"}, {"type": "string", "format": "date-time"}),
        (
            {"oneOf": [{"type": "integer"}, {"const": "all"}]},
            {"type": "string", "format": "binary"},
        ),
        ({"type": ["integer", "string"]}, {"type": "string", "format": "binary"}),
        (
            {"type": "array", "items": {"type": ["number", "null"]}},
            {"type": "array", "items": {"type": "number"}},
        ),
    ],
)
def test_casting_view_names_one_type_or_leaves_the_value_as_is(
    schema: dict[str, Any], expected: dict[str, Any]
) -> None:
    """One concrete type is kept for casting; several or none read as connexion's as-is type."""
    assert casting_view(schema) == expected


# compiled: one validator per schema object


def test_compiled_reuses_the_validator_for_the_same_schema_object() -> None:
    """Asking twice for the same schema object returns the very same validator."""
    schema = {"type": ["integer", "null"]}
    assert compiled(schema) is compiled(schema)


def test_compiled_builds_a_fresh_validator_for_an_equal_but_distinct_schema() -> None:
    """An equal dict that is a different object gets its own validator, never a stale one."""
    first = {"type": "string", "format": "date-time"}
    second = dict(first)
    assert compiled(first) is not compiled(second)
    assert compiled(second).schema is second


def test_compiled_keeps_validator_classes_apart() -> None:
    """The response validator for a schema is not the request validator for it."""
    schema = {"properties": {"secret": {"type": "string", "writeOnly": True}}}
    assert compiled(schema, ResponseValidator) is not compiled(schema)
    assert compiled(schema).is_valid({"secret": "x"})
    assert not compiled(schema, ResponseValidator).is_valid({"secret": "x"})


def test_compiled_validators_check_formats() -> None:
    """A compiled validator enforces ``format``, which jsonschema only annotates by default."""
    validator = compiled({"type": "string", "format": "date-time"})
    assert validator.is_valid("2026-03-01T00:00:00Z")
    assert not validator.is_valid("yesterday")


def test_compiled_forgets_the_least_recently_used_schema_beyond_its_bound() -> None:
    """The cache holds a bounded number of validators, evicting the least recently used."""
    kept, dropped = {"type": "integer"}, {"type": "string"}
    kept_validator, dropped_validator = compiled(kept), compiled(dropped)
    others = [{"const": n} for n in range(oas31._CACHE_SIZE - 1)]
    for other in others:
        compiled(other)
        compiled(kept)  # used again and again: stays
    assert compiled(kept) is kept_validator
    assert compiled(dropped) is not dropped_validator


def test_trusted_documents_skip_the_31_check() -> None:
    """A trusted document loads without the 3.1 check, which untrusted ones always get."""
    broken = {"openapi": "3.1.0", "info": {"version": "1"}, "paths": {}}  # no title
    with pytest.raises(SpecError, match="title"):
        load_specification(broken)
    assert load_specification(broken, trusted=True).raw["info"] == {"version": "1"}


def test_serving_bundled_specs_never_imports_the_spec_validator() -> None:
    """`usagemock serve` builds its apps without loading openapi-spec-validator (0.3 s, 28 MiB)."""
    probe = (
        "import sys\n"
        "from usagemock.settings import Settings\n"
        "from usagemock.web.app import create_app\n"
        "create_app(Settings(state=':memory:'))\n"
        "print('openapi_spec_validator' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


_MEMO_SCHEMA = {"type": ["integer", "string"], "minimum": 1, "pattern": "^org_", "maxLength": 8}


@given(
    values=st.lists(
        st.one_of(st.integers(-3, 3), st.booleans(), st.floats(-2, 2), st.text(max_size=10)),
        max_size=6,
    )
)
@example(values=[0.0, -0.0, 1, True, 1.0])  # equal values whose messages differ
def test_remembered_parameter_problems_are_what_validation_says(values: list[Any]) -> None:
    """A parameter value's problem is the same asked once or again, whatever its type."""
    for value in values + values:
        error = next(oas31.compiled(_MEMO_SCHEMA).iter_errors(value), None)
        expected = None if error is None else oas31.describe(error)
        assert oas31._problem(_MEMO_SCHEMA, value) == expected, repr(value)
