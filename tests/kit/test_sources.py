"""Every check the kit runs says its kind and source; the judged spec is only the vendor's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.kit.broken_servers import kenbun_app, timbal_app
from tests.kit.conftest import run_kit
from usagemock.apis import facts, names
from usagemock.kit import StageFinished
from usagemock.kit.sources import _SHARED, UNKNOWN, source_of
from usagemock.rules import Kind, Source
from usagemock.specs import load_bundled, vendor_view

VENDOR_DOCS = REPO / "specs" / "vendor"  # the vendor documents the sources quote, as published
SHARED_SEEDS = REPO.parent / "shared" / "seeds"  # where they were handed to us, beside the clone
APPS = {"timbal": timbal_app, "kenbun": kenbun_app}


@pytest.mark.parametrize("api", ["timbal", "kenbun"])
def test_every_check_that_runs_has_a_kind_and_source(api: str) -> None:
    """No check reaches a report without saying where its constraint comes from."""
    events = run_kit(api, APPS[api](), samples=3, max_examples=5)
    ran = {name for e in events if isinstance(e, StageFinished) for name in e.checks}
    unsourced = sorted(name for name in ran if source_of(api, name) is UNKNOWN)
    assert not unsourced, f"usagemock kit: checks without a source: {unsourced}"


def _sources() -> list[tuple[str, Source]]:
    found: list[tuple[str, Source]] = [(k, v) for k, v in _SHARED.items()]
    found += [
        (f"{api}/{check}", v) for api in names() for check, v in facts(api).check_sources.items()
    ]
    found += [(r.name, r.source) for api in names() for r in facts(api).every_rule()]
    return found


def test_every_quote_is_verbatim_in_the_vendor_documents() -> None:
    """Each "quoted" phrase of a source appears word for word in a vendor document."""
    text = " ".join(" ".join(path.read_text().split()) for path in sorted(VENDOR_DOCS.glob("*.md")))
    missing = []
    for name, source in _sources():
        for phrase in re.findall(r'"([^"]+)"', source.quote):
            for part in " ".join(phrase.split()).split("..."):
                if part.strip() and part.strip() not in text:
                    missing.append((name, part.strip()))
    assert not missing, missing


def test_inferred_and_assumed_sources_give_their_reasoning() -> None:
    """An inferred or assumed constraint says why in one line."""
    for name, source in _sources():
        if source.kind is not Kind.DOCUMENTED:
            assert source.reasoning, name


def test_the_vendor_view_drops_exactly_what_we_assumed() -> None:
    """Kenbun's error bodies and Timbal's 401 body go; the statuses and inferred bounds stay."""
    kenbun = vendor_view(load_bundled("kenbun"))
    responses = kenbun["paths"]["/usage"]["get"]["responses"]
    assert set(responses) == {"200", "400", "401"}
    assert "content" not in responses["400"] and "content" not in responses["401"]
    usage = kenbun["components"]["schemas"]["Usage"]["properties"]
    assert usage["overage_unit"]["minimum"] == 1, "inferred: kept"
    assert "format" not in usage["billing_cycle_start"], "RFC 3339 is ours; ISO 8601 is theirs"
    timbal = vendor_view(load_bundled("timbal"))
    operation = timbal["paths"]["/orgs/{org_id}/billing/overage"]["get"]
    assert "content" not in operation["responses"]["401"]
    assert "content" in operation["responses"]["403"], "documented: kept"
    summary = timbal["components"]["schemas"]["OverageSummary"]["properties"]
    assert "minimum" not in summary["threshold_usd"] and summary["used_credits"]["minimum"] == 0
    assert load_bundled("kenbun")["paths"]["/usage"]["get"]["responses"]["401"]["content"], (
        "the mock's own spec keeps its choices"
    )


def test_the_readme_table_lists_every_check() -> None:
    """Each rule and check the kit can report has a row in the README's table of kinds."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    checks = {f"{api}_{r.name}" for api in names() for r in facts(api).every_rule()}
    checks |= set(_SHARED) | {check for api in names() for check in facts(api).check_sources}
    missing = sorted(name for name in checks if f"| `{name}`" not in readme)
    assert not missing, f"add these to the README's table of checks: {missing}"


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason="no shared/seeds beside this clone")
def test_the_bundled_vendor_documents_are_the_ones_handed_to_us() -> None:
    """specs/vendor holds the vendor documents byte for byte, so quotes are checked against them."""
    bundled = {p.name: p.read_bytes() for p in VENDOR_DOCS.glob("*.md")}
    handed = {p.name: p.read_bytes() for p in SHARED_SEEDS.glob("*.md")}
    assert bundled == handed


@pytest.mark.parametrize("api", ["timbal", "kenbun"])
def test_a_shared_source_cites_the_judged_apis_own_document(api: str) -> None:
    """A run judges one API: a check shared by every API rests on that API's document alone."""
    assert source_of(api, "use_after_free").document == facts(api).doc
