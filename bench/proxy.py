"""Benchmark `usagemock proxy`: its added latency and throughput against a local upstream.

Run: python bench/proxy.py [--connections 32] [--duration 10] [--json]

Needs wrk (apt-get install wrk). The upstream is bench/ceiling.py (bare Starlette) answering a
valid Kenbun body for this month, so every answer is judged and none is flagged. wrk loads the
upstream directly, then through `usagemock proxy --api kenbun` in front of it, in the same run:
once with one connection (the latency a single client adds) and once with --connections
(throughput). Prints both and the proxy's cost as differences and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from run import HOST, WRK_LUA, add_load_options, spawn, stop, wrk

from usagemock.testing import free_port

CEILING = Path(__file__).with_name("ceiling.py")


def kenbun_body() -> bytes:
    """A Kenbun usage body every check passes, for the current month."""
    now = datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    after = (start + timedelta(days=32)).replace(day=1)
    return json.dumps(
        {
            "monthly_events": 184_320,
            "free_tier_limit": 500_000,
            "overage_rate_cents": 50,
            "overage_unit": 10_000,
            "overage": False,
            "billing_cycle_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "billing_cycle_end": (after - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "org_id": "org_bench",
            "org_name": "Bench Org",
            "subscription_status": "active",
            "trial_ends_at": None,
        }
    ).encode()


def measure(url: str, lua: Path, connections: int, args: argparse.Namespace) -> dict[str, float]:
    """Warm up, then load ``url``: req/s, p50 and p99 in ms, errors."""
    threads = min(args.threads, connections)
    wrk(url, lua, connections, threads, args.warmup)
    w = wrk(url, lua, connections, threads, args.duration)
    return {
        "rps": w["requests"] / (w["duration_us"] / 1e6),
        "p50_ms": w["p50_us"] / 1000,
        "p99_ms": w["p99_us"] / 1000,
        "errors": w["non2xx"] + w["socket_errors"],
    }


def main() -> int:
    """Run the benchmark and print the table (or JSON); return the exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_load_options(parser)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    loadavg = os.getloadavg()[0]
    procs = []
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="usagemock-bench-proxy-") as tmp:
        lua, body = Path(tmp, "report.lua"), Path(tmp, "body.json")
        lua.write_text(WRK_LUA)
        body.write_bytes(kenbun_body())
        uport, pport = free_port(), free_port()
        upstream = f"http://{HOST}:{uport}"
        direct, proxied = f"{upstream}/usage", f"http://{HOST}:{pport}/usage"
        upstream_cmd = [sys.executable, str(CEILING), "--host", HOST, "--port", str(uport)]
        upstream_cmd += ["--path", "/usage", "--body-file", str(body)]
        proxy_cmd = [sys.executable, "-m", "usagemock", "proxy", "--api", "kenbun"]
        proxy_cmd += ["--target", upstream, "--host", HOST, "--port", str(pport)]
        proxy_cmd += ["--report", str(Path(tmp, "report.jsonl"))]
        try:
            procs.append(spawn(upstream_cmd, direct, Path(tmp, "upstream.log"))[0])
            procs.append(spawn(proxy_cmd, proxied, Path(tmp, "proxy.log"))[0])
            for connections in (1, args.connections):
                results[f"direct c{connections}"] = measure(direct, lua, connections, args)
                results[f"proxy c{connections}"] = measure(proxied, lua, connections, args)
        finally:
            for proc in procs:
                stop(proc)
        flagged = Path(tmp, "report.jsonl")
        findings = len(flagged.read_text().splitlines()) if flagged.exists() else 0
    one, many = "c1", f"c{args.connections}"
    added = {
        "added_p50_ms_c1": results[f"proxy {one}"]["p50_ms"] - results[f"direct {one}"]["p50_ms"],
        "added_p99_ms_c1": results[f"proxy {one}"]["p99_ms"] - results[f"direct {one}"]["p99_ms"],
        "throughput_ratio": results[f"proxy {many}"]["rps"] / results[f"direct {many}"]["rps"],
        "findings": findings,
    }
    if args.json:
        print(json.dumps({"loadavg": loadavg, "results": results, "proxy_cost": added}, indent=2))
        return 0
    print(f"connections 1 and {args.connections}, {args.duration:g}s each, loadavg {loadavg:.2f}")
    print(f"{'':<12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, r in results.items():
        print(
            f"{name:<12} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['errors']:>7.0f}"
        )
    print(
        f"proxy adds {added['added_p50_ms_c1']:.2f} ms at p50 and {added['added_p99_ms_c1']:.2f} "
        f"ms at p99 (one connection); throughput {added['throughput_ratio']:.2f}x direct at "
        f"{args.connections} connections; {findings} finding(s) reported"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
