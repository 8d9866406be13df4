"""``usagemock test`` end to end: live servers on loopback ports, exit codes, masked token."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCESS_FIXTURES, REPO
from tests.kit.broken_servers import BROKEN, TOKEN, BodyBug, kenbun_app, stamp, timbal_app
from tests.kit.conformant_servers import ALL_AT_ONCE
from usagemock.cli import INTERRUPTED
from usagemock.cli.test import throwaway
from usagemock.settings import Settings
from usagemock.web.app import create_app

Serve = Callable[[Any], str]


def usagemock_test(*args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    """Run ``python -m usagemock test ARGS`` with the token in the environment, bounded in time."""
    env = {k: v for k, v in os.environ.items() if k != "USAGEMOCK_TOKEN"}
    if token is not None:
        env["USAGEMOCK_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "usagemock", "test", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
    )


@pytest.mark.e2e
def test_live_broken_server_fails_with_exit_1_and_never_prints_the_token(
    serve: Serve, tmp_path: Path
) -> None:
    """A real server breaking a rule: exit 1, the rule named, curl masked, JUnit written."""
    broken = next(b for b in BROKEN if b.name == "empty_cycle_in_second_half")
    url = serve(broken.app())
    junit = tmp_path / "junit.xml"
    result = usagemock_test(
        "--api", "kenbun", "--base-url", url, "--seed", "5", "--max-examples", "20",
        "--junit", str(junit),
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL kenbun_cycle_order" in result.stdout
    masked_curl = 'Reproduce with: curl -X GET -H "Authorization: Bearer $USAGEMOCK_TOKEN"'
    assert masked_curl in result.stdout
    assert f"Replay the run: usagemock test --api kenbun --base-url {url} " in result.stdout
    assert "--seed 5" in result.stdout
    assert TOKEN not in result.stdout + result.stderr + junit.read_text()
    assert ET.parse(junit).getroot().find("testsuite/testcase/failure") is not None


@pytest.mark.e2e
@pytest.mark.parametrize(("api", "app"), [("timbal", timbal_app), ("kenbun", kenbun_app)])
def test_live_correct_server_passes_a_default_run(
    serve: Serve, api: str, app: Callable[[], Any]
) -> None:
    """A default run (100 examples, 25 samples) of a correct live server exits 0.

    How long it takes is bench/contract.py's business: timed asserts fail under coverage.
    """
    url = serve(app())
    orgs = ["--org-id", "org_alpha", "--org-id", "org_b2"] if api == "timbal" else []
    result = usagemock_test("--api", api, "--base-url", url, *orgs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{api}: PASSED" in result.stdout


@pytest.mark.e2e
def test_ctrl_c_stops_the_run_without_a_verdict(serve: Serve, tmp_path: Path) -> None:
    """SIGINT while cases run stops the run: no PASSED, no JUnit file, exit 130, no traceback.

    schemathesis' engine catches the KeyboardInterrupt and finishes quietly; a run that went on
    to report a pass on what it had sent told a user who pressed Ctrl+C that the server passed.
    """
    asked = threading.Semaphore(0)
    app = kenbun_app()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            asked.release()
            await asyncio.sleep(0.2)  # long enough that the run is still in its first phases
        await app(scope, receive, send)

    url = serve(slow)
    junit = tmp_path / "junit.xml"
    env = {**os.environ, "USAGEMOCK_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "usagemock", "test", "--api", "kenbun", "--base-url", url,
         "--junit", str(junit)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        # The reachability check and the auth-mode probe, then cases of the engine's own.
        for _ in range(4):
            assert asked.acquire(timeout=30), "usagemock test sent no generated case"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == INTERRUPTED, (out, err)
    assert "PASSED" not in out and "Traceback" not in err and "Aborted" not in err
    assert err.endswith("usagemock: interrupted\n")
    assert not junit.exists()


def test_unreachable_url_is_one_line_and_exit_2() -> None:
    """Nothing listening: one sentence on stderr naming the URL, exit 2, no traceback."""
    result = usagemock_test("--api", "kenbun", "--base-url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert result.stderr.startswith("usagemock: error: Cannot reach http://127.0.0.1:9")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "token", "says"),
    [
        (["--api", "kenbun", "--base-url", "http://x.test"], None, "needs a token"),
        (["--api", "all", "--base-url", "http://x.test"], TOKEN, "--api all"),
        (["--api", "kenbun", "--base-url", "ftp://x.test"], TOKEN, "not an http(s) URL"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    args: list[str], token: str | None, says: str
) -> None:
    """A flag combination the command cannot use gets one sentence and exit 2."""
    result = usagemock_test(*args, token=token)
    assert result.returncode == 2
    assert says in result.stderr and "Traceback" not in result.stderr


def test_unknown_api_is_a_usage_error_without_traceback() -> None:
    """A bad --api value gets click's usage message and exit 2."""
    result = usagemock_test("--api", "stripe")
    assert result.returncode == 2
    assert "Invalid value for '--api'" in result.stderr and "Traceback" not in result.stderr


def test_in_process_mock_kenbun_passes() -> None:
    """Without --base-url the command tests the in-process mock, which keeps the Kenbun contract."""
    result = usagemock_test("--api", "kenbun", "--seed", "1", "--max-examples", "30", token=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kenbun against the in-process mock" in result.stdout


def test_in_process_mock_timbal_passes() -> None:
    """The in-process mock keeps the Timbal contract, odd org ids included."""
    result = usagemock_test("--api", "timbal", "--seed", "1", "--max-examples", "30", token=None)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.e2e
def test_live_server_with_open_choices_passes_and_fails_only_when_strict(serve: Serve) -> None:
    """A server choosing otherwise where Kenbun leaves it open: exit 0 with notes, 1 if strict."""
    url = serve(ALL_AT_ONCE["kenbun"]())
    args = ("--api", "kenbun", "--base-url", url, "--seed", "2", "--max-examples", "10")
    relaxed = usagemock_test(*args, "--samples", "3")
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
    assert "kenbun: PASSED, " in relaxed.stdout and "Notes (kenbun" in relaxed.stdout
    strict = usagemock_test(*args, "--samples", "3", "--strict")
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "Replay the run: usagemock test --api kenbun" in strict.stdout
    assert "--strict" in strict.stdout


def _cycle_that_ended(end: datetime) -> BodyBug:
    """Every answer's cycle is the 30 days up to ``end``: one fixed cycle, as a real server's.

    A cycle computed from each call's clock would move by a second whenever two samples
    straddle one, and the kit rightly fails a cycle that changes its bounds while current
    (kenbun_cycles_same_or_apart): the relaxed run failed that way about once in 40 runs.
    """
    start = end - timedelta(days=30)
    cycle = {"billing_cycle_start": stamp(start), "billing_cycle_end": stamp(end)}
    return lambda call, body: {**body, **cycle}


@pytest.mark.e2e
def test_clock_skew_is_how_far_a_cycle_may_miss_the_request(serve: Serve) -> None:
    """A cycle that ended two minutes ago passes with the default skew, fails with 60 s.

    The relaxed run passes while it asks within 3 minutes of the test's start (5 min of skew
    less the 2 gone), far beyond the 120 s ``usagemock_test`` gives it.
    """
    url = serve(kenbun_app(body_bug=_cycle_that_ended(datetime.now(UTC) - timedelta(minutes=2))))
    args = ("--api", "kenbun", "--base-url", url, "--seed", "2", "--max-examples", "5")
    relaxed = usagemock_test(*args, "--samples", "2")
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
    tight = usagemock_test(*args, "--samples", "2", "--clock-skew", "60")
    assert tight.returncode == 1, tight.stdout + tight.stderr
    assert "FAIL kenbun_cycle_contains_now" in tight.stdout
    assert "clock skew allowed: 0:01:00" in tight.stdout


@pytest.mark.e2e
def test_a_token_every_request_refuses_is_exit_2_not_a_pass(serve: Serve) -> None:
    """``USAGEMOCK_TOKEN=nobody`` against ``serve --fixtures``: one line naming the 401, exit 2."""
    url = serve(create_app(throwaway(Settings(api="all", fixtures=ACCESS_FIXTURES))))
    result = usagemock_test(
        "--api", "kenbun", "--base-url", f"{url}/kenbun", "--max-examples", "5", "--samples", "2",
        token="nobody",
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "PASSED" not in result.stdout
    assert result.stderr.startswith("usagemock: error: ") and "answers 401" in result.stderr
    assert "USAGEMOCK_TOKEN" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("path", ["/proc/nope.xml", "/dev/null/contract.xml"])
def test_an_unwritable_junit_path_is_exit_2_before_the_run(path: str) -> None:
    """``--junit`` somewhere nothing can be written stops the run at once, in one line."""
    result = usagemock_test("--api", "kenbun", "--junit", path, token=None)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"usagemock: error: --junit {path}: cannot write there")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("org", ["", "  ", "\t"])
def test_an_empty_org_id_is_refused_at_the_option(org: str) -> None:
    """An empty or blank ``--org-id`` is one line about the option, never about a temp file."""
    result = usagemock_test("--api", "kenbun", "--org-id", org, token=None)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--org-id" in result.stderr and "usagemock-test-" not in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("token", ["", "  "])
def test_an_empty_token_is_refused_not_replaced_by_the_environments(token: str) -> None:
    """``--token ""`` (an unset variable) is one line, not a silent switch to $USAGEMOCK_TOKEN."""
    result = usagemock_test("--api", "kenbun", "--token", token)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("usagemock: error: --token ")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
