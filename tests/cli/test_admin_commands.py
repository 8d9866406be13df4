"""`usagemock scenario|clock|org|fault` drive a real running server, as scripts and CI do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from tests.test_cli import LiveServer, run_cli
from usagemock.cli import main

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """One mock on a real loopback port, clock frozen, state in memory."""
    live = LiveServer("--now", "2026-03-20T10:00:00Z")
    yield live
    live.stop()


def cli(server: LiveServer, *args: str) -> str:
    """Run an admin command against ``server``; its stdout (the command must succeed)."""
    result = run_cli(*args, env={"USAGEMOCK_URL": server.url})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_scenario_walkthrough_from_the_command_line(server: LiveServer) -> None:
    """Near the limit, three days and an ingest later over it, then reset by the rollover."""
    applied = json.loads(cli(server, "scenario", "apply", "kenbun", "org_cli", "approaching_limit"))
    assert not applied["response"]["overage"]
    assert cli(server, "clock", "advance", "P3D").startswith("2026-03-23T10:00:00Z (frozen)")
    ingested = json.loads(cli(server, "org", "ingest", "kenbun", "org_cli", "50000"))
    assert ingested["response"]["overage"] is True
    cli(server, "clock", "set", "2026-04-02T00:00:00Z")
    rolled = json.loads(cli(server, "org", "show", "kenbun", "org_cli"))["response"]
    assert rolled["billing_cycle_start"] == "2026-04-01T00:00:00Z"
    assert rolled["monthly_events"] < ingested["response"]["monthly_events"]


def test_scenario_list_names_every_scenario(server: LiveServer) -> None:
    """`scenario list` prints one line per scenario with its APIs."""
    lines = cli(server, "scenario", "list").splitlines()
    assert len(lines) >= 14
    assert any(line.startswith("interim_invoice_fired") and "timbal" in line for line in lines)


def test_fault_and_reset_commands(server: LiveServer) -> None:
    """`fault set` refuses bad faults with exit 2 and the server's reason; `org reset` resets."""
    env = {"USAGEMOCK_URL": server.url}
    refused = run_cli("fault", "set", "timbal", "org_f", "--status", "400", env=env)
    assert refused.returncode == 2
    assert "not documented by the timbal API" in refused.stderr
    assert "Traceback" not in refused.stderr
    idle = run_cli("fault", "set", "timbal", "org_f", env=env)
    assert idle.returncode == 2 and "A fault must do something" in idle.stderr
    cli(server, "fault", "set", "timbal", "org_f", "--latency-ms", "10")
    assert cli(server, "org", "reset", "timbal", "org_f").strip() == "reset"
    assert '"changed": false' in cli(server, "org", "show", "timbal", "org_f")
    assert cli(server, "org", "reset", "--all").strip() == "reset"


def test_unreachable_server_is_one_line_and_exit_2() -> None:
    """Pointing the CLI at nothing says so in one line, with exit code 2."""
    result = run_cli("clock", "show", env={"USAGEMOCK_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2
    assert "Cannot reach the mock at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_clock_advance_takes_a_negative_duration(server: LiveServer) -> None:
    """`clock advance -P1D`, as README and --help write it, goes back a day (no `--` needed)."""
    cli(server, "clock", "set", "2026-03-20T10:00:00Z", "--freeze")
    assert cli(server, "clock", "advance", "-P1D").startswith("2026-03-19T10:00:00Z")
    assert invoke(server, "clock", "advance", "-PT12H").startswith("2026-03-18T22:00:00Z (frozen)")


ODD_IDS = ["a?b", "acme?x=1", "a#b", "100%", "50%25", "a b", "zürich-Ω", "a/b", "..", "."]


def invoke(server: LiveServer, *args: str) -> str:
    """Run an admin command in this process (click's runner) against ``server``; its stdout."""
    result = CliRunner().invoke(main, [*args, "--url", server.url])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("org_id", ODD_IDS)
def test_org_ids_reach_the_server_whole(server: LiveServer, org_id: str) -> None:
    """`org ingest` and `org show` send an org id with ?, #, %, spaces or a slash as one segment."""
    ingested = json.loads(invoke(server, "org", "ingest", "timbal", org_id, "5"))
    shown = json.loads(invoke(server, "org", "show", "timbal", org_id))
    assert ingested["record"]["org_id"] == shown["record"]["org_id"] == org_id
    assert [i["amount"] for i in shown["record"]["ingests"]] == [5]
    invoke(server, "org", "reset", "timbal", org_id)


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b'{"detail": "fault has no effect;\\n  give --status or --latency-ms"}', "fault has no"),
        (b'["not", "an object"]', '["not", "an object"]'),
        (b"", "Bad Request"),
    ],
)
def test_a_refusal_is_one_line_and_exit_2(serve: Any, body: bytes, shown: str) -> None:
    """Whatever the server's 400 body (multi-line detail, a list, nothing), one line and exit 2."""

    async def refuse(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": body})

    url = serve(refuse)
    result = CliRunner().invoke(main, ["fault", "set", "timbal", "org_f", "--url", url])
    assert result.exit_code == 2
    assert len(result.output.splitlines()) == 1 and shown in result.output, result.output


@pytest.mark.parametrize("command", [["org", "show"], ["org", "ingest"], ["org", "reset"]])
def test_an_empty_org_id_is_refused_before_any_call(command: list[str]) -> None:
    """An empty ORG_ID is a usage error naming it, not a 404 from the server (none is running)."""
    args = [*command, "timbal", ""] + (["7"] if command[1] == "ingest" else [])
    result = CliRunner().invoke(main, [*args, "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2, result.output
    assert "ORG_ID" in result.output and "is empty" in result.output


def test_a_refused_admin_token_says_which_option_gives_it() -> None:
    """Against a mock with --admin-token, a missing or wrong token names the option to pass."""
    live = LiveServer("--admin-token", "s3cret")
    try:
        missing = run_cli("clock", "show", env={"USAGEMOCK_URL": live.url})
        wrong = run_cli("clock", "show", "--admin-token", "nope", env={"USAGEMOCK_URL": live.url})
        right = run_cli("clock", "show", "--admin-token", "s3cret", env={"USAGEMOCK_URL": live.url})
    finally:
        live.stop()
    assert missing.returncode == 2 and "--admin-token or USAGEMOCK_ADMIN_TOKEN" in missing.stderr
    assert wrong.returncode == 2 and "given is not the server's" in wrong.stderr
    assert right.returncode == 0, right.stderr


def test_clock_reset_follows_real_time_again() -> None:
    """`usagemock clock reset` undoes a set and a freeze: the clock runs at real time."""
    live = LiveServer("--now", "2031-05-01T00:00:00Z")
    try:
        env = {"USAGEMOCK_URL": live.url}
        before = run_cli("clock", "show", env=env)
        reset = run_cli("clock", "reset", env=env)
    finally:
        live.stop()
    assert before.stdout.startswith("2031-05-01T00:00:00Z (frozen)")
    assert reset.returncode == 0, reset.stderr
    assert "(running, +0 s from real)" in reset.stdout
