"""Benchmark the PostgreSQL store: one replica on PostgreSQL vs SQLite, and two replicas.

Run: python bench/postgres.py [--api kenbun|timbal] [--workload read|ingest] [--connections 32]
                              [--duration 10] [--json]

Needs wrk (apt-get install wrk) and PostgreSQL's programs (apt-get install postgresql): a
throw-away cluster is started on loopback, as the tests do. Every server is `usagemock serve`
with one worker and no access log, measured in the same run:

- sqlite:     one replica, state in an SQLite file (the default; the baseline);
- postgres:   one replica, state in a PostgreSQL database;
- postgres-2: two replicas on one database, each loaded by its own wrk at the same time
  (req/s is their sum; the connections are split between them).

`read` loads the public API (every request reads the clock and the org); `ingest` POSTs ingests
into one org through the admin API (every request is a write transaction). Ratios are against
the SQLite baseline. On a 2-core machine the database, the replicas and wrk share the cores,
so two replicas cannot show their scaling here: read the ratio as an upper bound on the cost.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from run import HOST, PATHS, WRK_LUA, add_load_options, memory_mib, spawn, stop, wrk

from usagemock.testing import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.postgres_cluster

from tests.postgres_cluster import Cluster, find_bin

INGEST_PATH = "/_usagemock/orgs/kenbun/org_bench/ingest"
WRK_INGEST = """
wrk.method = "POST"
wrk.body = '{"amount": 1}'
wrk.headers["Content-Type"] = "application/json"
"""


def serve_cmd(api: str, port: int, state: str) -> list[str]:
    """One `usagemock serve` replica on ``state`` (an SQLite file or a PostgreSQL URL)."""
    return [
        *(sys.executable, "-m", "usagemock", "serve", "--api", api, "--host", HOST),
        *("--port", str(port), "--seed", "1", "--no-access-log", "--state", state),
    ]


def measure(states: list[str], args: argparse.Namespace, lua: Path, logs: Path) -> dict[str, float]:
    """Start one replica per entry of ``states``, load them all at once; summed req/s and more."""
    procs = []
    urls = []
    try:
        for state in states:
            port = free_port()
            base = f"http://{HOST}:{port}"
            url = base + (INGEST_PATH if args.workload == "ingest" else PATHS[args.api])
            proc, _ = spawn(serve_cmd(args.api, port, state), base + PATHS[args.api], logs)
            procs.append(proc)
            urls.append(url)
        connections = max(1, args.connections // len(urls))
        threads = max(1, min(args.threads, connections))

        def one(url: str, seconds: int) -> dict[str, float]:
            return wrk(url, lua, connections, threads, seconds)

        with ThreadPoolExecutor(len(urls)) as pool:
            list(pool.map(lambda u: one(u, args.warmup), urls))
            runs = list(pool.map(lambda u: one(u, args.duration), urls))
        rss = max(memory_mib(proc.pid)[0] for proc in procs)
    finally:
        for proc in procs:
            stop(proc)
    rps = sum(r["requests"] / (r["duration_us"] / 1e6) for r in runs)
    return {
        "rps": rps,
        "p50_ms": max(r["p50_us"] for r in runs) / 1000,
        "p99_ms": max(r["p99_us"] for r in runs) / 1000,
        "rss_mib": rss,
        "non2xx": sum(r["non2xx"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
    }


def main() -> int:
    """Run the three measurements and print the table (or JSON); return the exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", choices=sorted(PATHS), default="kenbun")
    parser.add_argument("--workload", choices=("read", "ingest"), default="read")
    add_load_options(parser)
    args = parser.parse_args()
    bin_dir = find_bin()
    if shutil.which("wrk") is None or bin_dir is None:
        print("needs wrk and PostgreSQL: apt-get install wrk postgresql", file=sys.stderr)
        return 2
    loadavg = os.getloadavg()[0]
    cluster = Cluster(bin_dir)
    try:
        with tempfile.TemporaryDirectory(prefix="usagemock-bench-") as tmp:
            lua = Path(tmp, "wrk.lua")
            lua.write_text((WRK_INGEST if args.workload == "ingest" else "") + WRK_LUA)
            logs = Path(tmp, "serve.log")
            shared = cluster.new_database()
            results = {
                "sqlite": measure([str(Path(tmp, "state.sqlite3"))], args, lua, logs),
                "postgres": measure([cluster.new_database()], args, lua, logs),
                "postgres-2": measure([shared, shared], args, lua, logs),
            }
    finally:
        cluster.remove()
    base = results["sqlite"]["rps"]
    summary: dict[str, Any] = {
        "config": {**{k: v for k, v in vars(args).items() if k != "json"}, "loadavg": loadavg},
        "results": results,
        "ratios": {name: round(r["rps"] / base, 3) for name, r in results.items()},
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    cfg = summary["config"]
    print(
        f"api={cfg['api']} workload={cfg['workload']} connections={cfg['connections']} "
        f"duration={cfg['duration']:g}s loadavg={loadavg:.2f}"
    )
    print(f"{'state':<12} {'req/s':>9} {'vs sqlite':>9} {'p50 ms':>8} {'p99 ms':>8} {'non2xx':>7}")
    for name, r in results.items():
        print(
            f"{name:<12} {r['rps']:>9.0f} {summary['ratios'][name]:>8.2f}x "
            f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['non2xx']:>7.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
