"""The kit catches every server of the broken family and passes the conformant family, any seed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kit.broken_servers import BROKEN, Broken, kenbun_app, timbal_app
from tests.kit.conformant_servers import ALL_AT_ONCE, CONFORMANT, WRAPPED, Conformant
from tests.kit.conftest import finished, run_kit
from usagemock.kit import StageFinished
from usagemock.kit.checks import rule_checks

REFERENCE = {"timbal": timbal_app, "kenbun": kenbun_app}


@pytest.mark.parametrize("broken", BROKEN, ids=lambda b: f"{b.api}-{b.name}")
def test_kit_catches_each_broken_server(broken: Broken) -> None:
    """Each server that breaks one documented fact fails the run, on a check naming that fact."""
    result = finished(run_kit(broken.api, broken.app()))
    failed = {finding.check for finding in result.failures}  # notes do not count
    assert not result.passed
    assert failed & broken.catches, (
        f"usagemock kit missed {broken.name} ({broken.breaks}): failed {sorted(failed)}, "
        f"expected one of {sorted(broken.catches)}"
    )


@pytest.mark.parametrize("seed", [1, 20260317, 987654321])
@pytest.mark.parametrize("api", ["timbal", "kenbun"])
def test_correct_server_passes_for_every_seed(api: str, seed: int) -> None:
    """A server that keeps every rule passes, whatever the seed: no false alarm."""
    result = finished(run_kit(api, REFERENCE[api](), seed=seed))
    assert result.passed, [f"{f.check}: {f.message}" for f in result.findings]
    assert result.requests > 50


def test_every_documented_rule_is_checked_on_a_correct_server() -> None:
    """Each rule of usagemock.rules ran on real 200s, so a pass means something."""
    events = run_kit("kenbun", kenbun_app())
    counted = {name for e in events if isinstance(e, StageFinished) for name in e.checks}
    assert set(rule_checks()["kenbun"]) <= counted
    assert "credential_required" in counted


def test_every_failing_sample_is_reported_even_when_retries_are_clean() -> None:
    """A bug on every 5th call shows in each failing response, with that response's body."""
    broken = next(b for b in BROKEN if b.name == "sum_off_every_5th_call")
    result = finished(run_kit("timbal", broken.app(), samples=20))
    sampled = [f for f in result.findings if f.stage == "samples"]
    # 40 sampled calls, interleaved with ignored_auth's own re-sends: several hit a 5th call
    assert len(sampled) >= 2, len(sampled)
    assert all(f.status == 200 and '"used_credits"' in f.body for f in sampled)
    assert all("!= invoiced_credits" in f.message for f in sampled)


def test_known_orgs_are_pinned_into_generated_cases() -> None:
    """With --org-id, part of the generated cases ask an owned org and get 200."""
    events = run_kit("timbal", timbal_app(), samples=0)
    fuzzing = next(e for e in events if isinstance(e, StageFinished) and e.stage == "fuzzing")
    # rule checks count only 200s, which only owned orgs get
    assert fuzzing.checks["timbal_used_is_invoiced_plus_pending"] > 0


def test_timbal_without_known_orgs_skips_samples_and_says_why() -> None:
    """Without --org-id there is no org to sample; the stage says how to add one."""
    events = run_kit("timbal", timbal_app(), org_ids=())
    samples = next(e for e in events if isinstance(e, StageFinished) and e.stage == "samples")
    assert samples.skipped is not None and "--org-id" in samples.skipped
    assert finished(events).passed


def test_a_request_that_gets_no_response_is_a_failure() -> None:
    """A server that crashes without answering (here on long org ids) fails request_completed."""
    inner = timbal_app()

    async def crash_on_long_ids(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and len(scope["path"]) > 300:
            raise RuntimeError("connection dropped")
        await inner(scope, receive, send)

    result = finished(run_kit("timbal", crash_on_long_ids, samples=2))
    dropped = [f for f in result.findings if f.check == "request_completed"]
    assert dropped and "connection dropped" in dropped[0].message
    assert dropped[0].curl.startswith("curl -X GET")


SEEDS = (1, 20260317, 987654321)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("server", (*CONFORMANT, *WRAPPED), ids=lambda c: f"{c.api}-{c.name}")
def test_kit_passes_each_conformant_server(server: Conformant, seed: int) -> None:
    """A server that differs from the mock only where the vendor leaves it open passes, any seed."""
    result = finished(run_kit(server.api, server.app(), seed=seed, samples=6))
    assert result.passed, [f"{f.check}: {f.message}" for f in result.failures]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("api", ["timbal", "kenbun"])
def test_kit_passes_a_server_with_every_open_difference_at_once(api: str, seed: int) -> None:
    """All of an API's conformant differences in one server still pass, for every seed."""
    result = finished(run_kit(api, ALL_AT_ONCE[api](), seed=seed, samples=6))
    assert result.passed, [f"{f.check}: {f.message}" for f in result.failures]
    assert result.notes, "its choices differ from the mock's, which the run notes"


def test_notes_fail_the_run_only_when_strict() -> None:
    """Kenbun's JSON 401 is a note: the run passes, and fails with --strict, naming why."""
    server = next(c for c in CONFORMANT if c.name == "json_code_message_401")
    relaxed = finished(run_kit("kenbun", server.app(), samples=2))
    strict = finished(run_kit("kenbun", server.app(), samples=2, strict=True))
    assert relaxed.passed and relaxed.notes
    note = relaxed.notes[0]
    assert note.check == "mock_spec_conformance" and note.kind == "assumed"
    assert "Kenbun documents no error body" in note.message
    assert "application/problem+json" in note.message
    assert not strict.passed and {f.check for f in strict.failures} == {"mock_spec_conformance"}


def test_findings_name_their_kind_and_source() -> None:
    """A failure carries its kind and the vendor's words it rests on."""
    broken = next(b for b in BROKEN if b.name == "overage_true_at_the_limit")
    result = finished(run_kit("kenbun", broken.app(), samples=6))
    finding = next(f for f in result.failures if f.check == "kenbun_overage_flag")
    assert finding.kind == "documented"
    assert "The overage flag is set to true when monthly_events exceeds" in finding.source


def test_a_broken_series_shows_both_responses() -> None:
    """A rule across calls shows the earlier response next to the later one that broke it."""
    broken = next(b for b in BROKEN if b.name == "events_down_every_3rd_call")
    result = finished(run_kit("kenbun", broken.app(), samples=6))
    finding = next(f for f in result.findings if f.check == "kenbun_events_never_go_down")
    assert finding.kind == "inferred"
    assert '"monthly_events":10' in finding.body
    assert finding.earlier.startswith("200 (asked ") and '"monthly_events":' in finding.earlier
