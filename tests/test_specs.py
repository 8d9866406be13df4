"""Both specs are valid OpenAPI 3.1, additions are marked, and lint locates problems by pointer."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from openapi_spec_validator import validate

from tests.conftest import REPO, Listener
from usagemock.cli import main
from usagemock.errors import SpecError
from usagemock.specs import lint, load_bundled, load_document, spec_path


@pytest.mark.parametrize("api", ["timbal", "kenbun"])
def test_specs_pass_openapi_spec_validator(api: str) -> None:
    """openapi-spec-validator accepts both documents as they are stored."""
    validate(yaml.safe_load(spec_path(api).read_text()))
    assert lint(load_bundled(api)) == []


def test_bundled_specs_are_the_repository_files() -> None:
    """The package serves the files in specs/, not stale copies."""
    assert spec_path("timbal") == REPO / "specs" / "timbal.yaml"


def _added(node: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(node, dict):
        if "x-usagemock-added" in node:
            found.append(path)
        for key, value in node.items():
            found += _added(value, f"{path}/{key}")
    return found


def test_timbal_additions_are_marked() -> None:
    """Every addition to the published Timbal document carries x-usagemock-added."""
    spec = load_bundled("timbal")
    operation = spec["paths"]["/orgs/{org_id}/billing/overage"]["get"]
    assert spec["openapi"] == "3.1.0"
    assert "x-usagemock-added" in operation["responses"]["401"]
    examples = operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert all("x-usagemock-added" in example for example in examples.values())
    assert "/paths/~1orgs~1{org_id}~1billing~1overage/get/responses/401".replace("~1", "/") in [
        p.replace("~1", "/") for p in _added(spec)
    ]


def test_kenbun_spec_documents_all_eleven_required_fields() -> None:
    """Kenbun's Usage schema requires the 11 documented fields with the documented types."""
    usage = load_bundled("kenbun")["components"]["schemas"]["Usage"]
    assert len(usage["required"]) == 11 == len(usage["properties"])
    assert usage["properties"]["trial_ends_at"]["type"] == ["string", "null"]
    assert len(usage["properties"]["subscription_status"]["enum"]) == 7
    assert usage["properties"]["billing_cycle_start"]["format"] == "date-time"


def _broken_kenbun() -> dict[str, Any]:
    spec = copy.deepcopy(dict(load_bundled("kenbun")))
    spec["components"]["schemas"]["Usage"]["properties"]["overage"]["type"] = "bool"
    del spec["info"]["title"]
    return spec


def test_lint_reports_each_problem_with_its_pointer() -> None:
    """A bad schema type and a missing title are both reported where they are."""
    pointers = {problem.pointer for problem in lint(_broken_kenbun())}
    assert "/components/schemas/Usage/properties/overage/type" in pointers
    assert "/info" in pointers


def test_lint_reports_a_dangling_reference() -> None:
    """A $ref to a missing component is reported at the $ref, not raised."""
    spec = copy.deepcopy(dict(load_bundled("timbal")))
    spec["paths"]["/orgs/{org_id}/billing/overage"]["get"]["responses"]["403"]["content"][
        "application/json"
    ]["schema"]["$ref"] = "#/components/schemas/Nope"
    [problem] = lint(spec)
    assert problem.pointer.endswith("/responses/403/content/application~1json/schema/$ref")


def test_lint_rejects_other_openapi_versions() -> None:
    """A 3.0 document is reported as not 3.1."""
    assert lint({"openapi": "3.0.3"})[0].pointer == "/openapi"


def test_unparsable_document_names_file_and_line(tmp_path: Path) -> None:
    """A document that is not YAML is refused with its file, line and column."""
    bad = tmp_path / "api.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: [unclosed\n")
    with pytest.raises(SpecError, match=rf"{bad}:\d+:\d+: not valid YAML or JSON"):
        load_document(bad)


def _nodes(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found += _nodes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _nodes(value, f"{path}/{index}")
    return found


@pytest.mark.parametrize("api", ["timbal", "kenbun"])
def test_every_assumption_names_a_keyword_that_is_there(api: str) -> None:
    """Each x-usagemock-assumed/-inferred key is a sibling keyword, with a reason."""
    for path, node in _nodes(load_bundled(api)):
        for mark in ("x-usagemock-assumed", "x-usagemock-inferred"):
            reasons = node.get(mark, {})
            assert isinstance(reasons, dict), f"{path}/{mark} maps keywords to reasons"
            for keyword, why in reasons.items():
                assert str(why).strip(), f"{path}/{mark}/{keyword} gives no reason"
                if mark == "x-usagemock-assumed":
                    assert keyword in node, f"{path}: assumed {keyword!r} is not a sibling"


def test_every_timbal_addition_says_its_kind() -> None:
    """What we added to Timbal's document is marked inferred (held to) or assumed (a note)."""
    for path, node in _nodes(load_bundled("timbal")):
        if "x-usagemock-added" in node:
            assert "x-usagemock-assumed" in node or "x-usagemock-inferred" in node, path


def _spec_with_schema(tmp_path: Path, schema: dict[str, Any]) -> Path:
    """A minimal 3.1 document whose one response has ``schema``, written to a file."""
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": schema}},
                        }
                    }
                }
            }
        },
        "components": {"schemas": {"A": {"type": "object"}}},
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_lint_refuses_a_file_reference_without_reading_it(tmp_path: Path) -> None:
    """A `file://` $ref is named and refused; the file it points at is never printed."""
    secret = tmp_path / "secret.json"
    secret.write_text('"SECRET-7f3a9c"')
    ref = secret.as_uri()
    result = CliRunner().invoke(main, ["lint", str(_spec_with_schema(tmp_path, {"$ref": ref}))])
    assert "SECRET-7f3a9c" not in result.output
    assert result.exit_code == 1, result.output
    assert f"{ref!r} points outside this document" in result.output
    assert "self-contained" in result.output and "bundle" in result.output


@pytest.mark.parametrize("form", ["ref", "dynamic-ref"])
def test_lint_makes_no_request_for_an_http_reference(tmp_path: Path, form: str) -> None:
    """An `http://` $ref, or a local one under an `http://` $id, is refused without a request."""
    listener = Listener()
    try:
        url = f"http://127.0.0.1:{listener.port}/schema.json"
        schema = {"$ref": url} if form == "ref" else {"$dynamicRef": url, "default": 1}
        result = CliRunner().invoke(main, ["lint", str(_spec_with_schema(tmp_path, schema))])
    finally:
        listener.close()
    assert listener.connections == 0
    assert result.exit_code == 1, result.output
    assert "self-contained" in result.output, result.output
