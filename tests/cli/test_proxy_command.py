"""``usagemock proxy`` end to end: a real process, a real upstream, reports written on a signal."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from tests.conftest import REPO
from tests.kit.broken_servers import BROKEN, TOKEN
from usagemock.cli import main
from usagemock.testing import free_port, listening, wait_until

Serve = Callable[..., str]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "USAGEMOCK_TOKEN"}


def usagemock_proxy(*args: str) -> Result:
    """Run ``usagemock proxy ARGS`` in this process (bad flags end it before it serves)."""
    return CliRunner().invoke(main, ["proxy", *args])


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("stop", "extra"),
    [(signal.SIGINT, ["--mock-fallback", "--summary"]), (signal.SIGTERM, [])],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_writes_junit_and_the_exit_code_says_violations(
    serve: Serve, tmp_path: Path, stop: signal.Signals, extra: list[str]
) -> None:
    """Traffic through a real proxy process; on SIGINT or SIGTERM: JUnit, summary, exit 1."""
    broken = next(b for b in BROKEN if b.name == "overage_true_at_the_limit")
    upstream = serve(broken.app())
    port = free_port()
    junit, report = tmp_path / "proxy.xml", tmp_path / "proxy.jsonl"
    summary = tmp_path / "summary.md"
    extra = [*extra, str(summary)] if "--summary" in extra else extra
    process = subprocess.Popen(
        [
            sys.executable, "-m", "usagemock", "proxy", "--api", "kenbun", "--target", upstream,
            "--port", str(port), "--junit", str(junit), "--report", str(report), *extra,
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=REPO,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        started = wait_until(
            lambda: listening(port), timeout=30, alive=lambda: process.poll() is None
        )
        assert started, "usagemock proxy did not start within 30 s"
        flagged = [
            httpx.get(f"{url}/usage", headers={"Authorization": f"Bearer {TOKEN}"})
            for _ in range(8)
        ]
        assert any(
            "kenbun_overage_flag" in r.headers.get("x-usagemock-violations", "") for r in flagged
        )
        process.send_signal(stop)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 1, out + err
    assert "FAIL kenbun_overage_flag (documented) GET" in out
    assert "server violation(s)" in out and "Traceback" not in err
    failed = {
        case.get("name")
        for case in ET.parse(junit).iter("testcase")
        if case.find("failure") is not None
    }
    assert "kenbun_overage_flag" in failed
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert {"kenbun_overage_flag"} <= {line["check"] for line in lines}
    assert all(line["party"] == "server" for line in lines)
    assert TOKEN not in out + err + junit.read_text() + report.read_text()
    if extra:
        assert "### usagemock proxy: kenbun" in summary.read_text()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--target", ""], "--target '' is empty"),
        (["--target", "ftp://example.com"], "is not an http(s) URL"),
        (["--target", "http://[::1"], "is not a URL"),
        (["--target", "http://127.0.0.1:1", "--junit", "/proc/nope.xml"], "--junit /proc/nope.xml"),
        (["--target", "http://127.0.0.1:1", "--report", "/proc/nope.jsonl"], "--report"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    """A bad target or report path: one line on stderr naming the flag, exit 2, no traceback."""
    result = usagemock_proxy("--api", "kenbun", *args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    """The port taken: a sentence naming it, exit 2."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = usagemock_proxy(
            "--api", "timbal", "--target", "http://127.0.0.1:1", "--port", str(port)
        )
    assert result.exit_code == 2 and "already in use" in result.stderr, result.output
