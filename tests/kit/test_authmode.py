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
from tests.kit.broken_servers import OWNED, TOKEN, Call, kenbun_app, timbal_app
from tests.kit.conftest import finished, run_kit
from usagemock.kit import JUnitReport, Plan, StageFinished, Target, TargetError, run
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


@pytest.mark.parametrize(
    ("api", "app", "token", "orgs", "says"),
    [
        ("kenbun", kenbun_app, "nobody", (), "answers 401 to GET /usage"),
        ("timbal", timbal_app, "nobody", OWNED, f"answers 401 to GET /orgs/{OWNED[0]}/"),
        ("timbal", timbal_app, TOKEN, ("org_gamma",), "owns --org-id org_gamma"),
    ],
)
def test_a_token_the_target_refuses_stops_the_run_before_it_starts(
    api: str, app: Any, token: str, orgs: tuple[str, ...], says: str
) -> None:
    """A 401 or 403 to the kit's own token is a usage error naming the status and what to check."""
    with pytest.raises(TargetError) as raised:
        run_kit(api, app(), token=token, org_ids=orgs)
    message = str(raised.value)
    assert says in message and "USAGEMOCK_TOKEN" in message and "\n" not in message


def test_a_fixtures_mock_refusing_the_token_for_its_org_stops_the_run() -> None:
    """``acme-member`` asking for ``org_globex`` gets 403 everywhere: a usage error, not a pass."""
    app = mock(api="timbal", fixtures=ACCESS_FIXTURES)
    with pytest.raises(TargetError, match=r"403 .*owns --org-id org_globex"):
        run_kit("timbal", app, token="acme-member", org_ids=("org_globex",), strict=True)


def test_the_hint_for_another_apis_prefix_names_this_apis_prefix() -> None:
    """A mock serving every API, aimed at /timbal for Kenbun, is said to have Kenbun at /kenbun."""
    target = Target("http://127.0.0.1:8000/timbal", mock(api="all"))
    with pytest.raises(TargetError) as raised:
        list(run(Plan(api="kenbun", target=target, token=TOKEN, seed=1)))
    assert "has it at http://127.0.0.1:8000/kenbun;" in str(raised.value)
    assert "/timbal/kenbun" not in str(raised.value)


def test_a_mock_serving_only_another_api_is_said_to_serve_another_api() -> None:
    """A Kenbun-only mock never gets a base URL hint it would answer 404 to."""
    with pytest.raises(TargetError) as raised:
        run_kit("timbal", mock(api="kenbun"))
    message = str(raised.value)
    assert "has it at" not in message
    assert "so it serves another API" in message and "usagemock serve --api timbal" in message
