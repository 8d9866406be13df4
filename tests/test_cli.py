"""The usagemock command: lint, serve on a real loopback port, and bad input without tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
import pytest

from tests.conftest import REPO
from usagemock.apis import violations
from usagemock.testing import free_port, wait_listening

NOW = "2026-03-17T14:30:00Z"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m usagemock`` to completion (state in memory) and capture its output.

    A free port unless the test names one: a mock the developer runs on 8000 must not fail it.
    """
    return subprocess.run(
        [sys.executable, "-m", "usagemock", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "USAGEMOCK_STATE": ":memory:",
            "USAGEMOCK_PORT": str(free_port()),
            **(env or {}),
        },
        cwd=REPO,
    )


class LiveServer:
    """A real ``usagemock serve`` process on a loopback port."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        state = () if "--state" in args else ("--state", ":memory:")  # throw-away unless asked
        quiet = () if "--access-log" in args else ("--no-access-log",)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "usagemock",
                "serve",
                "--port",
                str(self.port),
                *quiet,
                *state,
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        if wait_listening(self.port, timeout=20, alive=lambda: self.process.poll() is None):
            return
        self.process.kill()
        _, err = self.process.communicate(timeout=10)
        raise AssertionError(f"usagemock serve did not start: {err}")

    def stop(self) -> str:
        """Stop the server and return what it printed."""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=10)
        return out


@pytest.fixture
def server() -> Iterator[LiveServer]:
    """Both APIs on a real port, clock frozen."""
    live = LiveServer("--now", NOW)
    yield live
    live.stop()


@pytest.mark.e2e
def test_readme_curl_returns_a_conformant_body(server: LiveServer) -> None:
    """The README's curl against a real server returns a Kenbun body that keeps every rule."""
    response = httpx.get(f"{server.url}/kenbun/usage", headers={"Authorization": "Bearer demo"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert violations("kenbun", response.json()) == []
    assert len(response.json()) == 11


@pytest.mark.e2e
def test_banner_lists_urls_and_a_curl_per_api() -> None:
    """The start-up banner names each API's URL, its docs and a curl to try."""
    live = LiveServer("--now", NOW)
    out = live.stop()
    for api in ("timbal", "kenbun"):
        assert f"http://127.0.0.1:{live.port}/{api}/ui/" in out
    assert out.count("curl -H 'Authorization: Bearer demo'") == 2


@pytest.mark.e2e
def test_same_token_gives_the_same_body_after_a_restart() -> None:
    """Data is a function of seed, token and time: a restarted server answers identically."""
    bodies = []
    for _ in range(2):
        live = LiveServer("--now", NOW, "--seed", "42")
        try:
            bodies.append(
                [
                    httpx.get(
                        f"{live.url}/kenbun/usage", headers={"Authorization": "Bearer t1"}
                    ).json(),
                    httpx.get(
                        f"{live.url}/timbal/orgs/org_9/billing/overage",
                        headers={"Authorization": "Bearer t1"},
                    ).json(),
                ]
            )
        finally:
            live.stop()
    assert bodies[0] == bodies[1]


@pytest.mark.e2e
@pytest.mark.parametrize(("flag", "lines"), [("--access-log", 1), ("--no-access-log", 0)])
def test_access_log_prints_one_line_per_request(flag: str, lines: int) -> None:
    """`--access-log` (the default) prints one line per request; `--no-access-log` prints none."""
    live = LiveServer(flag)
    try:
        status = httpx.get(f"{live.url}/kenbun/usage", headers={"Authorization": "Bearer d"})
    finally:
        out = live.stop()
    assert status.status_code == 200
    logged = [line for line in out.splitlines() if "/kenbun/usage" in line and "curl" not in line]
    assert len(logged) == lines, out
    if lines:
        assert '"GET /kenbun/usage HTTP/1.1" 200' in logged[0]


@pytest.mark.e2e
def test_admin_cors_reaches_every_worker(tmp_path: Path) -> None:
    """`--admin-cors` (repeated) grants those origins in every worker, and no other origin."""
    state = str(tmp_path / "state.sqlite3")
    named = ("--admin-cors", "http://localhost:3000", "--admin-cors", "http://b.test")
    live = LiveServer(*named, "--workers", "2", "--state", state)
    preflight = {"Access-Control-Request-Method": "PUT"}
    try:
        granted = [
            httpx.options(
                f"{live.url}/_usagemock/clock", headers={"Origin": origin, **preflight}
            ).headers.get("access-control-allow-origin")
            for origin in ("http://localhost:3000", "http://b.test", "http://c.test") * 3
        ]
    finally:
        live.stop()
    assert granted == ["http://localhost:3000", "http://b.test", None] * 3


@pytest.mark.e2e
def test_single_api_mode_on_a_real_port() -> None:
    """`serve --api timbal` serves Timbal at the root of a real port."""
    live = LiveServer("--api", "timbal")
    try:
        response = httpx.get(
            f"{live.url}/orgs/org_1/billing/overage", headers={"Authorization": "Bearer demo"}
        )
    finally:
        live.stop()
    assert response.status_code == 200
    assert violations("timbal", response.json()) == []


@pytest.mark.e2e
def test_a_taken_port_is_one_line_not_a_traceback(server: LiveServer) -> None:
    """Starting on a port in use fails with exit 2 and a sentence naming the fix."""
    result = run_cli("serve", "--port", str(server.port))
    assert result.returncode == 2
    assert "already in use; pass --port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("serve", "--port", "eighty"), {}, "Option --port is 'eighty'"),
        (("serve",), {"USAGEMOCK_API": "stripe"}, "Environment variable USAGEMOCK_API"),
        (("serve", "--now", "tomorrow"), {}, "not an ISO 8601 timestamp"),
        (("serve", "--fixtures", "nope.yaml"), {}, "no such file"),
        (("lint", "missing.yaml"), {}, "cannot read the file"),
        (("serve", "--host", "999.1.1.1"), {}, "Cannot bind to host '999.1.1.1'"),
        (
            ("serve", "--state", "/nonexistent-usagemock/state.sqlite3"),
            {},
            "(its folder /nonexistent-usagemock does not exist)",
        ),
        (("serve", "--state", "/"), {}, "State file / cannot be used (it is a folder)"),
        (("serve", "--host", "192.0.2.1"), {}, "Cannot bind to host '192.0.2.1'"),
        (
            ("serve", "--state", "postgresql://me:pw@127.0.0.1:0/state"),
            {},
            "postgresql://me:***@127.0.0.1:0/state is not a PostgreSQL URL usagemock can use",
        ),
        (
            ("serve", "--state", "mysql://me:pw@127.0.0.1/state"),
            {},
            "--state mysql://me:***@127.0.0.1/state is a mysql:// URL; usagemock keeps state",
        ),
        (
            ("serve", "--state", "MySQL+driver://me:pw@127.0.0.1/state"),
            {},
            "--state MySQL+driver://me:***@127.0.0.1/state is a MySQL+driver:// URL",
        ),
        (
            ("serve",),
            {"USAGEMOCK_STATE": f"postgresql://me:pw@127.0.0.1:{free_port()}/state"},
            "Cannot use the PostgreSQL database postgresql://me:***@127.0.0.1:",
        ),
        # an unset variable as --token is refused, not replaced by $USAGEMOCK_TOKEN
        *(
            (
                (command, "--api", "kenbun", "--target", "http://127.0.0.1:9", "--token", ""),
                {"USAGEMOCK_TOKEN": "from-the-environment"},
                "--token '' is empty (an unset variable?)",
            )
            for command in ("drift", "proxy")
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(args: tuple[str, ...], env: dict, message: str) -> None:
    """Bad flags, variables and files end with exit code 2 and a message, never a traceback."""
    result = run_cli(*args, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and ":pw@" not in result.stderr


def test_bad_fixtures_file_names_file_line_and_field(tmp_path: Path) -> None:
    """A fixtures file with a wrong field is refused with its file, line and field."""
    bad = tmp_path / "access.yaml"
    bad.write_text("tokens:\n  t1:\n    org: org_a\n    can_reed: [x]\n")
    result = run_cli("serve", "--fixtures", str(bad))
    assert result.returncode == 2
    assert (
        f"{bad}:4: tokens.t1.can_reed: Additional properties are not allowed ('can_reed'"
        in result.stderr
    )


def test_lint_passes_both_specs() -> None:
    """`usagemock lint` exits 0 on the bundled specs."""
    result = run_cli("lint", "specs/timbal.yaml", "specs/kenbun.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("valid OpenAPI 3.1") == 2


def test_lint_reports_pointers_and_exits_1(tmp_path: Path) -> None:
    """`usagemock lint` prints each problem with its JSON pointer and exits 1."""
    spec = (REPO / "specs" / "kenbun.yaml").read_text().replace("type: boolean", "type: bool")
    broken = tmp_path / "kenbun.yaml"
    broken.write_text(spec)
    result = run_cli("lint", str(broken))
    assert result.returncode == 1
    assert f"{broken}#/components/schemas/Usage/properties/overage/type:" in result.stdout


def test_lint_checks_every_file_after_one_it_cannot_read(tmp_path: Path) -> None:
    """A missing file is one line and exit 2, and the files after it are still checked."""
    missing = tmp_path / "nope.yaml"
    result = run_cli("lint", str(missing), "specs/kenbun.yaml")
    assert result.returncode == 2
    assert str(missing) in result.stderr and "Traceback" not in result.stderr
    assert "specs/kenbun.yaml: valid OpenAPI 3.1" in result.stdout


def test_serve_starts_without_the_other_commands_imports() -> None:
    """``usagemock serve`` loads its own module, not the kit, the proxy or the admin client."""
    shown = subprocess.run(
        [sys.executable, "-c", SERVE_IMPORTS], capture_output=True, text=True, check=True
    )
    loaded = set(shown.stdout.split())
    assert "usagemock.cli.serve" in loaded
    assert not loaded & {"usagemock.cli.proxy", "usagemock.cli.test", "usagemock.cli.admin"}
    assert not {name for name in loaded if name.startswith(("usagemock.kit", "schemathesis"))}


SERVE_IMPORTS = """
import sys, click
from usagemock.cli import main
main.get_command(click.Context(main), "serve")
import usagemock.web.app
print(*sys.modules)
"""


def test_every_command_is_listed_and_found_where_the_table_says() -> None:
    """The lazy table names every command's module: each loads its commands and nothing else."""
    from usagemock.cli import _MODULES, main

    for name, module in _MODULES.items():
        command = main.get_command(click.Context(main), name)
        assert command is not None and command.callback is not None, name
        assert command.callback.__module__ == f"usagemock.cli.{module}", name
    assert set(main.commands) == {*_MODULES, "lint"}
