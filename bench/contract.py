"""How long a default contract run takes against a local mock, and how many cases per second.

Run: python bench/contract.py [--runs 3]

Starts `usagemock serve` on a free 127.0.0.1 port (throw-away state), then runs a default
`usagemock test` (100 examples per phase, 25 samples per known org) of each API against it, and
prints wall time, requests and requests per second, with PASS/MISS against the 30 s target.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from usagemock.testing import free_port

HOST = "127.0.0.1"
TARGET_S = 30.0
TOKEN = "bench-token"


def start_mock(
    port: int, fixtures: Path, *, validate_responses: bool = False
) -> subprocess.Popen[bytes]:
    """`usagemock serve` on ``port`` with named tokens, returned once it answers.

    ``validate_responses`` holds every response to the spec and the documented rules (a body
    that breaks them leaves as a 500).
    """
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "usagemock",
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--state",
            ":memory:",
            "--no-access-log",
            "--fixtures",
            str(fixtures),
            *(["--validate-responses"] if validate_responses else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://{HOST}:{port}/_usagemock/clock", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("usagemock serve did not start within 30 s")


def contract_run(api: str, base: str) -> tuple[float, int, bool]:
    """One default `usagemock test` run: (seconds, requests, passed)."""
    url = f"{base}/{api}"
    orgs = ["--org-id", "org_bench"] if api == "timbal" else []
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "usagemock", "test", "--api", api, "--base-url", url, *orgs],
        capture_output=True,
        text=True,
        env={**os.environ, "USAGEMOCK_TOKEN": TOKEN},
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    found = re.search(r"(\d+) requests in", result.stdout)
    return elapsed, int(found.group(1)) if found else 0, result.returncode == 0


def main() -> int:
    """Measure each API's default contract run and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per API (median reported)")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="usagemock-bench-") as tmp:
        # the token owns one org, so the kit's auth checks see what a deployment does
        fixtures = Path(tmp, "access.yaml")
        fixtures.write_text(
            json.dumps({"tokens": {TOKEN: {"org": "org_bench", "can_read": ["org_bench"]}}})
        )
        return measure(port, fixtures, args.runs)


def measure(port: int, fixtures: Path, runs_per_api: int) -> int:
    """Run and report each API's contract runs against one mock."""
    proc = start_mock(port, fixtures)
    try:
        print(f"{'api':<8} {'median s':>9} {'requests':>9} {'req/s':>7} {'passed':>7}  30 s target")
        for api in ("kenbun", "timbal"):
            runs = [contract_run(api, f"http://{HOST}:{port}") for _ in range(runs_per_api)]
            seconds = statistics.median(r[0] for r in runs)
            requests = int(statistics.median(r[1] for r in runs))
            passed = all(r[2] for r in runs)
            verdict = "PASS" if seconds <= TARGET_S else "MISS"
            print(
                f"{api:<8} {seconds:>9.2f} {requests:>9} {requests / seconds:>7.1f} "
                f"{passed!s:>7}  {verdict}"
            )
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
