"""The kit against our own mock: open mode's any-token-works is reported, never judged or hidden."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response

from tests.conftest import ACCESS_FIXTURES, REPO
from tests.kit.broken_servers import Call, kenbun_app
from tests.kit.conftest import finished, run_kit
from usagemock.kit import JUnitReport, StageFinished, TargetError
from usagemock.pytest_plugin import MockServer
from usagemock.settings import Settings
from usagemock.specs import AUTH_MODE_HEADER
from usagemock.web.app import create_app

AUTH_CHECKS = {"credential_required", "ignored_auth", "owned_orgs_only"}


def mock(**settings: Any) -> Any:
    """The mock in-process, with throw-away state."""
    return create_app(dataclasses.replace(Settings(**settings), state=":memory:"))


def checked(events: list[Any]) -> set[str]:
    """Every check that looked at a response in a run."""
    return {name for e in events if isinstance(e, StageFinished) for name in e.checks}


@pytest.mark.parametrize("api", ["kenbun", "timbal"])
def test_open_mode_mock_passes_and_says_auth_was_not_tested(api: str) -> None:
    """Against an open-mode mock the auth checks are skipped, in one line saying how to test."""
    events = run_kit(api, mock(api=api), org_ids=("org_demo",), samples=3)
    result = finished(events)
    assert result.passed, [f"{f.check}: {f.message}" for f in result.findings]
    skipped = [e for e in events if isinstance(e, StageFinished) and e.stage == "auth"]
    assert len(skipped) == 1 and skipped[0].skipped is not None
    assert "usagemock in open mode" in skipped[0].skipped
    assert "--fixtures FILE" in skipped[0].skipped
    assert not checked(events) & AUTH_CHECKS


def test_mock_with_fixtures_gets_every_auth_check() -> None:
    """A mock with named tokens says so, and the auth checks run on it as on any server."""
    app = mock(api="timbal", fixtures=ACCESS_FIXTURES)
    events = run_kit("timbal", app, org_ids=("org_acme",), samples=2, token="acme-member")
    assert not [e for e in events if isinstance(e, StageFinished) and e.stage == "auth"]
    assert checked(events) >= AUTH_CHECKS
    assert finished(events).passed, [f.check for f in finished(events).findings]


def _any_token_works(call: Call, response: Response) -> Response:
    if response.status_code == 401:  # a real server that forgot to check tokens
        response = Response(status_code=200, content=b"{}", media_type="application/json")
    response.headers[AUTH_MODE_HEADER] = "fixtures"
    return response


def test_any_other_server_that_accepts_any_token_still_fails() -> None:
    """Only a server saying it is an open usagemock is spared; a token-blind server fails."""
    result = finished(run_kit("kenbun", kenbun_app(response_bug=_any_token_works)))
    assert {"credential_required", "ignored_auth"} & {f.check for f in result.findings}


@pytest.mark.e2e
@pytest.mark.usagemock(api="kenbun")
def test_readme_run_against_a_default_local_mock_exits_0(usagemock_server: MockServer) -> None:
    """``USAGEMOCK_TOKEN=demo usagemock test --api kenbun --base-url URL`` on ``serve``: exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", "usagemock", "test", "--api", "kenbun",
         "--base-url", usagemock_server.url, "--max-examples", "20", "--samples", "5"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "USAGEMOCK_TOKEN": "demo"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{usagemock_server.url} is a usagemock in open mode" in result.stdout


def test_junit_counts_the_auth_checks_as_skipped(tmp_path: Path) -> None:
    """In JUnit the open mode shows as a skipped test case with the reason, counted as skipped."""
    path = tmp_path / "contract.xml"
    report = JUnitReport(path)
    for event in run_kit("kenbun", mock(api="kenbun"), samples=1):
        report.handle(event)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    skipped = {case.get("name"): case.find("skipped") for case in suite.iter("testcase")}
    auth = skipped.get("auth")
    assert auth is not None and "usagemock in open mode" in auth.get("message", "")
    counted = sum(1 for element in skipped.values() if element is not None)
    assert int(suite.get("skipped", "0")) == counted >= 1


def test_a_usagemock_that_does_not_serve_the_api_there_is_a_usage_error() -> None:
    """Pointed at the root of a mock serving every API, the kit names the right base URL."""
    with pytest.raises(TargetError) as raised:
        run_kit("kenbun", mock(api="all"))
    assert "answers 404 to GET /usage" in str(raised.value)
    assert "http://127.0.0.1:8000/kenbun; use that as the base URL" in str(raised.value)
