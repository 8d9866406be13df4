"""Soak: plain schemathesis, every check, positive and negative data, against a real mock.

Run: python bench/soak_schemathesis.py [--max-examples 1000] [--seed 1]

For each API (Timbal, Kenbun) and the admin API, starts a fresh `usagemock serve` on a free
127.0.0.1 port (throw-away state, responses checked against the spec and the documented rules)
and runs the `st` CLI on its openapi.json with `--checks all --mode all` (examples, coverage,
fuzzing and, for the admin API, the stateful phase over its links). Prints cases, failures and
seconds per API, and PASS when there are at least 10,000 cases in all and no failure. Not part
of CI: it takes about 11 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from subprocess import run

from contract import HOST, TOKEN, start_mock

from usagemock.testing import free_port

MIN_CASES = 10_000
SPECS = {  # API -> (its openapi.json under the all-APIs server, extra st arguments)
    "timbal": ("/timbal/openapi.json", ["-H", f"Authorization: Bearer {TOKEN}"]),
    "kenbun": ("/kenbun/openapi.json", ["-H", f"Authorization: Bearer {TOKEN}"]),
    "admin": ("/_usagemock/openapi.json", []),
}


def soak(api: str, fixtures: Path, max_examples: int, seed: int, log: Path) -> tuple[int, int]:
    """One schemathesis run against a fresh mock: (cases generated, failures found)."""
    port = free_port()
    proc = start_mock(port, fixtures, validate_responses=True)
    path, extra = SPECS[api]
    st = Path(sys.executable).with_name("st")
    try:
        result = run(
            [
                *(str(st), "run", f"http://{HOST}:{port}{path}", "--checks", "all"),
                *("--mode", "all", "--max-examples", str(max_examples), "--seed", str(seed)),
                *("--generation-database", "none", "--no-color", *extra),
            ],
            capture_output=True,
            text=True,
            timeout=3600,
            cwd=log.parent,  # schemathesis writes its .schemathesis/ cache where it runs
        )
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)
    log.write_text(result.stdout + result.stderr)
    cases = re.search(r"(\d+) generated", result.stdout)
    failures = re.search(r"(\d+) found (\d+) unique failures", result.stdout)
    if cases is None:
        sys.exit(f"schemathesis printed no summary for {api}; see {log}")
    return int(cases.group(1)), int(failures.group(2)) if failures else 0


def main() -> int:
    """Soak each API and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=1000, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    total_cases = total_failures = 0
    with tempfile.TemporaryDirectory(prefix="usagemock-soak-") as tmp:
        fixtures = Path(tmp, "access.yaml")  # one named token that owns one Timbal org
        fixtures.write_text(
            json.dumps({"tokens": {TOKEN: {"org": "org_bench", "can_read": ["org_bench"]}}})
        )
        print(f"{'api':<8} {'cases':>7} {'failures':>9} {'seconds':>8}")
        for api in SPECS:
            started = time.perf_counter()
            log = Path(tmp, f"{api}.log")
            cases, failures = soak(api, fixtures, args.max_examples, args.seed, log)
            elapsed = time.perf_counter() - started
            print(f"{api:<8} {cases:>7} {failures:>9} {elapsed:>8.1f}")
            if failures:
                print(log.read_text()[-4000:])
            total_cases += cases
            total_failures += failures
    verdict = "PASS" if total_cases >= MIN_CASES and not total_failures else "MISS"
    print(f"{'total':<8} {total_cases:>7} {total_failures:>9}  {verdict} (>= {MIN_CASES}, 0)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
