"""The pytest plugin: the mock as fixtures, and ``pytest --usagemock-url`` running the contract."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from tests.kit.broken_servers import BROKEN, TOKEN, kenbun_app
from tests.kit.conformant_servers import CONFORMANT
from tests.kit.conftest import serve  # noqa: F401  (a fixture, used by name)
from usagemock.apis import names
from usagemock.pytest_plugin import MockServer

pytest_plugins = ["pytester"]  # runs pytest in-process, for the usage errors


@pytest.mark.e2e
@pytest.mark.usagemock(api="kenbun", seed=3)
def test_usagemock_server_serves_the_api_the_marker_names(usagemock_server: MockServer) -> None:
    """The marker's api= reaches ``usagemock serve``: Kenbun answers at the root of a free port."""
    response = httpx.get(f"{usagemock_server.url}/usage", headers={"Authorization": "Bearer t"})
    assert response.status_code == 200
    assert usagemock_server.base_url("kenbun") == usagemock_server.url


async def test_usagemock_app_is_the_mock_in_process(usagemock_app: Any) -> None:
    """Without a marker the in-process app serves both APIs under /<api>/."""
    transport = httpx.ASGITransport(app=usagemock_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        response = await client.get("/kenbun/usage", headers={"Authorization": "Bearer t"})
    assert response.status_code == 200


def run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest in an empty directory (only the plugin's tests exist there)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "USAGEMOCK_TOKEN": TOKEN},
    )


@pytest.mark.e2e
def test_usagemock_url_runs_the_contract_and_fails_on_a_broken_server(
    serve: Callable[[Any], str],  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """``pytest --usagemock-url`` adds a contract test that fails with the kit's report."""
    broken = next(b for b in BROKEN if b.name == "overage_unit_zero")
    url = serve(broken.app())
    args = ["--usagemock-url", url, "--usagemock-api", "kenbun", "--usagemock-max-examples", "20"]
    result = run_pytest(tmp_path, *args)
    assert result.returncode == 1, result.stdout
    assert "FAIL kenbun_counts_not_negative" in result.stdout
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.e2e
def test_usagemock_url_passes_a_correct_server(
    serve: Callable[[Any], str],  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """The contract test passes on a correct server, selected by its marker."""
    url = serve(kenbun_app())
    args = ["--usagemock-url", url, "--usagemock-api", "kenbun", "-m", "usagemock_contract"]
    result = run_pytest(tmp_path, *args, "--usagemock-max-examples", "20")
    assert result.returncode == 0, result.stdout
    assert "1 passed" in result.stdout


@pytest.mark.e2e
def test_usagemock_strict_fails_the_contract_test_on_notes(
    serve: Callable[[Any], str],  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """A JSON 401 (a note; kit runs pass it) fails the contract test with --usagemock-strict."""
    server = next(c for c in CONFORMANT if c.name == "json_code_message_401")
    url = serve(server.app())
    args = ["--usagemock-url", url, "--usagemock-api", "kenbun", "--usagemock-max-examples", "5"]
    strict = run_pytest(tmp_path, *args, "--usagemock-strict")
    assert strict.returncode == 1, strict.stdout
    assert "Kenbun documents no error body" in strict.stdout


def test_usagemock_url_without_api_is_a_usage_error(tmp_path: Path) -> None:
    """--usagemock-url alone says which option is missing."""
    result = run_pytest(tmp_path, "--usagemock-url", "http://127.0.0.1:9")
    assert result.returncode == 4
    assert "--usagemock-api" in result.stderr


@pytest.mark.e2e
@pytest.mark.usagemock(api="kenbun", scenario="just_over_limit")
def test_marker_scenario_puts_the_served_org_in_that_scenario(
    usagemock_server: MockServer,
) -> None:
    """scenario= reaches ``usagemock serve --scenario``: an org just over the limit has overage."""
    response = httpx.get(f"{usagemock_server.url}/usage", headers={"Authorization": "Bearer t"})
    body = response.json()
    assert response.status_code == 200
    assert body["overage"] is True and body["monthly_events"] > body["free_tier_limit"]


HOST_SUITE = """
import asyncio

import httpx
import pytest


def test_in_process(usagemock_app):
    async def get():
        transport = httpx.ASGITransport(app=usagemock_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            return await client.get("/kenbun/usage", headers={"Authorization": "Bearer t"})

    assert asyncio.run(get()).status_code == 200


@pytest.mark.usagemock(api="kenbun")
def test_server(usagemock_server):
    auth = {"Authorization": "Bearer t"}
    assert httpx.get(usagemock_server.url + "/usage", headers=auth).status_code == 200
"""


def run_short_contract(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest in ``tmp_path`` with a short Kenbun contract test against ``url`` added."""
    contract = ["--usagemock-url", url, "--usagemock-api", "kenbun", "--usagemock-max-examples"]
    return run_pytest(tmp_path, *args, "-p", "no:asyncio", *contract, "10")


@pytest.mark.e2e
def test_plugin_keeps_a_host_suite_that_turns_warnings_into_errors_green(
    serve: Callable[[Any], str],  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """A suite run with ``-W error`` and ``filterwarnings = error`` passes with every fixture."""
    (tmp_path / "test_host.py").write_text(HOST_SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    result = run_short_contract(tmp_path, serve(kenbun_app()), "-W", "error")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


@pytest.mark.e2e
def test_contract_run_selected_by_marker_is_counted_as_collected_and_selected(
    serve: Callable[[Any], str],  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """``-m usagemock_contract`` among other tests reports 1 selected, then 1 passed."""
    tests = "".join(f"def test_other_{n}():\n    pass\n\n\n" for n in range(4))
    (tmp_path / "test_others.py").write_text(tests)
    result = run_short_contract(tmp_path, serve(kenbun_app()), "-m", "usagemock_contract")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "collected 5 items / 4 deselected / 1 selected" in result.stdout
    assert "1 passed, 4 deselected" in result.stdout


def test_an_empty_usagemock_url_is_a_usage_error(tmp_path: Path) -> None:
    """``--usagemock-url ""`` (an unset variable) stops the run; it never silently adds nothing."""
    result = run_pytest(tmp_path, "--usagemock-url", "", "--usagemock-api", "kenbun")
    assert result.returncode == 4
    assert "--usagemock-url '' is empty" in result.stderr


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--usagemock-org-id", "", "--usagemock-org-id '' is empty (an unset variable?)"),
        ("--usagemock-org-id", "  ", "--usagemock-org-id '  ' is blank; pass the id of an org"),
        ("--usagemock-token", "", "--usagemock-token '' is empty (an unset variable?); pass"),
        ("--usagemock-api", " ", "--usagemock-api ' ' is blank; pass timbal or kenbun"),
    ],
)
def test_a_blank_string_option_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, option: str, value: str, says: str
) -> None:
    """An empty or blank string option stops the run at once, not a confusing failure later."""
    args = ["--usagemock-url", "http://127.0.0.1:9", "--usagemock-api", "kenbun"]
    # pytest-asyncio warns in a session without its loop-scope setting: not this test's business
    result = pytester.runpytest_inprocess("-p", "no:asyncio", *args, f"{option}={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    assert f"usagemock: {says}" in result.stderr.str(), result.stderr.str()


@pytest.mark.parametrize("value", ["0", "-3", "lots"])
def test_max_examples_below_one_is_a_usage_error(pytester: pytest.Pytester, value: str) -> None:
    """``--usagemock-max-examples 0`` stops the run, instead of meaning the default."""
    args = ["--usagemock-url", "http://127.0.0.1:9", "--usagemock-api", "kenbun"]
    result = pytester.runpytest_inprocess(
        "-p", "no:asyncio", *args, f"--usagemock-max-examples={value}"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    assert "--usagemock-max-examples" in result.stderr.str(), result.stderr.str()
    assert "not a whole number of 1 or more" in result.stderr.str(), result.stderr.str()


USER_APP_TEST = """
import asyncio

import httpx
import pytest

AUTH = {"Authorization": "Bearer t"}


@pytest.mark.usagemock(api="seats")
def test_in_process(usagemock_app):
    async def get():
        transport = httpx.ASGITransport(app=usagemock_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            return await client.get("/orgs/org_a/seats", headers=AUTH)

    assert asyncio.run(get()).status_code == 200
"""
USER_SUITE = (
    USER_APP_TEST
    + """

@pytest.mark.usagemock(api="seats")
def test_server(usagemock_server):
    assert httpx.get(usagemock_server.url + "/orgs/org_a/seats", headers=AUTH).status_code == 200
"""
)


@pytest.mark.e2e
def test_a_users_api_reaches_both_fixtures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``--usagemock-register`` the app and the served mock (``usagemock serve``) have it.

    The user's module sits where pytest runs; the server runs in a folder of its own and still
    imports it.
    """
    (tmp_path / "my_seats.py").write_text("from tests.thirdapi.seats import FACTS\n")
    (tmp_path / "test_user.py").write_text(USER_SUITE)
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # where tests.thirdapi is (the user's own code)
    result = run_pytest(tmp_path, "-p", "no:asyncio", "--usagemock-register", "my_seats:FACTS")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_a_users_api_that_cannot_be_registered_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """A bad ``--usagemock-register`` stops the run in one line naming it."""
    result = pytester.runpytest_inprocess(
        "-p", "no:asyncio", "--usagemock-register", "tests.thirdapi.seats:DEFINITION"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    says = "usagemock: Option --usagemock-register 'tests.thirdapi.seats:DEFINITION': DEFINITION"
    assert says in result.stderr.str(), result.stderr.str()


def test_the_variable_registers_for_an_in_process_run_that_leaves_none_behind(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``USAGEMOCK_REGISTER`` reaches ``usagemock_app``; the host's registry is as it was after."""
    before = names()
    monkeypatch.setenv("USAGEMOCK_REGISTER", "tests.thirdapi.seats:FACTS")
    pytester.makepyfile(test_user=USER_APP_TEST)
    result = pytester.runpytest_inprocess("-p", "no:asyncio")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert names() == before
