"""The kit catches every server of the broken family and passes a correct one, for any seed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kit.broken_servers import BROKEN, Broken, kenbun_app, timbal_app
from tests.kit.conftest import finished, run_kit
from usagemock.kit import StageFinished
from usagemock.kit.checks import RULE_CHECKS

REFERENCE = {"timbal": timbal_app, "kenbun": kenbun_app}


@pytest.mark.parametrize("broken", BROKEN, ids=lambda b: f"{b.api}-{b.name}")
def test_kit_catches_each_broken_server(broken: Broken) -> None:
    """Each server that breaks one documented fact fails the run, on a check naming that fact."""
    result = finished(run_kit(broken.api, broken.app()))
    failed = {finding.check for finding in result.findings}
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
    assert set(RULE_CHECKS["kenbun"]) <= counted
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
