"""Benchmark the usagemock server against a bare Starlette "ceiling" and Prism's static mock.

Run: python bench/run.py [--api kenbun|timbal|both] [--connections 32] [--duration 10] [--json]
                         [--rounds 3] [--before DIR]  # also the mock from another checkout

Needs wrk (apt-get install wrk) and, for the Prism column, Node with npm: the first run installs
@stoplight/prism-cli into bench/.peers (ignored by git); --no-prism skips it. Every server runs
on 127.0.0.1; all of an API's servers start first (the mock, --before and the ceiling
--startup-runs times each, in turn, for their start-up), then wrk loads each in turn with the same
settings, round after round (--rounds), and each figure is the median of its rounds, so the
ratios hold on a busy machine. The mock runs as `usagemock serve --api <api>` does by default:
state in a (temporary) SQLite file, access log on (written to a file); then again with
--workers 2. The ceiling is a bare Starlette app under plain uvicorn returning the mock's bytes
(the target's reference); "ceiling 1w" is the same app writing each response in one write, as
`usagemock serve` does (cli/onewrite.py), shown so that ratio is not mistaken for app speed alone.
Prism serves the same spec statically with its logging silenced. usagemock's bytecode is
written first, as an installed usagemock has it (--no-compile leaves it unwritten).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

import usagemock
from usagemock.testing import free_port

HOST = "127.0.0.1"
HEADERS = {"Authorization": "Bearer demo"}
PATHS = {"kenbun": "/usage", "timbal": "/orgs/org_bench/billing/overage"}
SPECS = Path(__file__).resolve().parent.parent / "specs"
TARGETS = {  # key: (label, comparison, target)
    "ratio_rps": ("mock/ceiling req/s", ">=", 0.40),
    "vs_prism": ("mock/Prism req/s", ">", 1.0),
    "vs_before": ("mock/before req/s", ">=", 1.0),
    "p99_ms": ("mock p99 ms", "<=", 20.0),
    "startup_s": ("mock start-up s", "<=", 0.5),
    "rss_mib": ("mock RSS MiB", "<=", 80.0),
}
TIMED = ("mock", "before", "ceiling")  # started --startup-runs times each; the others once
CEILING = Path(__file__).with_name("ceiling.py")
PEERS = Path(__file__).with_name(".peers")
PRISM = PEERS / "node_modules" / ".bin" / "prism"
WRK_LUA = """
wrk.headers["Authorization"] = "Bearer demo"
done = function(s, lat, req)
  local e = s.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p99_us": %.0f, '
    .. '"non2xx": %.0f, "socket_errors": %.0f}\\n',
    s.requests, s.duration, lat:percentile(50), lat:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Result:
    """Measured numbers for one server."""

    rps: float
    p50_ms: float
    p99_ms: float
    startup_s: float
    rss_mib: float
    hwm_mib: float
    non2xx: int
    socket_errors: int


def mock_cmd(api: str, port: int, state: Path, workers: int) -> list[str]:
    """The mock's command line: the defaults of `usagemock serve` (access log on, SQLite file)."""
    return [
        sys.executable,
        "-m",
        "usagemock",
        "serve",
        "--api",
        api,
        "--host",
        HOST,
        "--port",
        str(port),
        "--seed",
        "1",
        "--state",
        str(state),
        "--workers",
        str(workers),
    ]


def prism_cmd(api: str, port: int) -> list[str]:
    """Prism's static mock of the same spec, logging silenced (its fastest setting)."""
    spec = str(SPECS / f"{api}.yaml")
    return [str(PRISM), "mock", spec, "--host", HOST, "--port", str(port), "-v", "silent"]


def install_prism() -> bool:
    """Install Prism into bench/.peers from the npm registry unless it is there; whether it is."""
    if PRISM.exists():
        return True
    if shutil.which("npm") is None:
        return False
    cmd = ["npm", "install", "--silent", "--prefix", str(PEERS), "@stoplight/prism-cli"]
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0 and PRISM.exists()


def spawn(cmd: list[str], url: str, log: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Start `cmd` in its own process group; return it and seconds until GET `url` is 200."""
    out = log.open("ab")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    with httpx.Client(headers=HEADERS, timeout=1.0) as client:
        while time.perf_counter() - start < 30:
            try:
                if client.get(url).status_code == 200:
                    return proc, time.perf_counter() - start
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.002)  # the granularity of the start-up figure
    stop(proc)
    sys.exit(f"server did not answer 200 on {url}: {' '.join(cmd)}\n{log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the process group of `proc`, killing it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


def compile_packages(packages: list[Path]) -> None:
    """Write the bytecode of each usagemock package, as pip does when it installs a wheel.

    A checkout run with PYTHONDONTWRITEBYTECODE set (as some CI and sandbox machines are)
    would otherwise compile usagemock's modules at every start, which an installed usagemock,
    or a checkout without that variable after its first start, never does.
    """
    for package in packages:
        if not compileall.compile_dir(package, quiet=1):
            sys.exit(f"could not compile {package}")


def memory_mib(pid: int) -> tuple[float, float]:
    """Return (VmRSS, VmHWM) of process `pid` in MiB."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    kib = dict(line.split(":", 1) for line in lines if line.startswith("Vm"))
    return int(kib["VmRSS"].split()[0]) / 1024, int(kib["VmHWM"].split()[0]) / 1024


def wrk(url: str, lua: Path, connections: int, threads: int, seconds: int) -> dict[str, float]:
    """Run wrk against `url` and return the JSON line printed by the Lua done() hook."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(lua), url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"^BENCH_JSON (\{.*\})$", proc.stdout, re.M)
    if proc.returncode != 0 or match is None:
        sys.exit(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data: dict[str, float] = json.loads(match.group(1))
    return data


def load(url: str, lua: Path, args: argparse.Namespace, warm: bool) -> dict[str, float]:
    """Load `url` with wrk (after a warm-up when `warm`); return wrk's numbers."""
    if warm:
        wrk(url, lua, args.connections, args.threads, args.warmup)
    return wrk(url, lua, args.connections, args.threads, args.duration)


def result(rounds: list[dict[str, float]], startup: float, pid: int) -> Result:
    """The medians of a server's rounds, its start-up, and its memory now."""
    rss, hwm = memory_mib(pid)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    rps = statistics.median(r["requests"] / (r["duration_us"] / 1e6) for r in rounds)
    errors = (int(sum(r["non2xx"] for r in rounds)), int(sum(r["socket_errors"] for r in rounds)))
    p50, p99 = median("p50_us") / 1000, median("p99_us") / 1000
    return Result(rps, p50, p99, startup, rss, hwm, *errors)


def verdicts(results: dict[str, Result]) -> dict[str, dict[str, Any]]:
    """Compare the mock with the targets; return value, target and PASS/MISS per target."""
    mock = results["mock"]
    values = {"ratio_rps": mock.rps / results["ceiling"].rps}
    if "prism" in results:
        values["vs_prism"] = mock.rps / results["prism"].rps
    values.update(p99_ms=mock.p99_ms, startup_s=mock.startup_s, rss_mib=mock.rss_mib)
    if "before" in results:
        values["vs_before"] = mock.rps / results["before"].rps
    checks = {}
    for key, value in values.items():
        _, op, target = TARGETS[key]
        ok = {">=": value >= target, ">": value > target, "<=": value <= target}[op]
        verdict = "PASS" if ok else "MISS"
        checks[key] = {"value": round(value, 3), "target": target, "verdict": verdict}
    return checks


def report(summary: dict[str, Any]) -> None:
    """Print the summary as a human-readable table per API."""
    cfg = summary["config"]
    print(
        f"connections={cfg['connections']} threads={cfg['threads']} duration={cfg['duration']:g}s "
        f"warmup={cfg['warmup']:g}s loadavg before={cfg['loadavg']:.2f} "
        f"after={summary['loadavg_after']:.2f} cores={os.cpu_count()} "
        f"bytecode={'written' if cfg['compile'] else 'unwritten'} "
        # Unbuffered, stdout writes through at once: what the servers' output costs depends on it.
        f"PYTHONUNBUFFERED={os.environ.get('PYTHONUNBUFFERED', 'unset')}"
    )
    for api, run in summary["apis"].items():
        print(f"\n{api} GET {PATHS[api]}")
        print(
            f"{'server':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'start s':>8} "
            f"{'RSS MiB':>8} {'HWM MiB':>8} {'non2xx':>7} {'sockerr':>7}"
        )
        for name, r in run["results"].items():
            print(
                f"{name:<10} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
                f"{r['startup_s']:>8.3f} {r['rss_mib']:>8.1f} {r['hwm_mib']:>8.1f} "
                f"{r['non2xx']:>7} {r['socket_errors']:>7}"
            )
        for key, c in run["checks"].items():
            label, op, _ = TARGETS[key]
            print(f"{label:<20} {c['value']:>8} {op:>2} {c['target']:<5} {c['verdict']}")
        results = run["results"]
        if "ceiling 1w" in results:
            same = results["mock"]["rps"] / results["ceiling 1w"]["rps"]
            print(f"{'mock/ceiling 1w':<20} {same:>8.3f}    (both write a response at once)")
    for note in summary["notes"]:
        print(f"note: {note}")


def bench_api(api: str, args: argparse.Namespace, tmp: Path, lua: Path) -> dict[str, Result]:
    """Start every server for `api`, load each in turn for --rounds rounds; results by name."""
    body = tmp / f"{api}-body.json"
    ceiling = [sys.executable, str(CEILING), "--host", HOST, "--path", PATHS[api]]
    ceiling += ["--body-file", str(body)]
    commands = {
        "mock": mock_cmd(api, free_port(), tmp / f"{api}-state.sqlite3", 1),
        "mock w2": mock_cmd(api, free_port(), tmp / f"{api}-state-w2.sqlite3", 2),
        "ceiling": [*ceiling, "--port", str(free_port())],
        "ceiling 1w": [*ceiling, "--one-write", "--port", str(free_port())],
    }
    if args.before:  # another checkout's code on the same interpreter, e.g. main before a change
        before = mock_cmd(api, free_port(), tmp / f"{api}-state-before.sqlite3", 1)
        commands["before"] = ["env", f"PYTHONPATH={args.before / 'src'}", *before]
    if args.prism:
        commands["prism"] = prism_cmd(api, free_port())
    urls = {
        name: f"http://{HOST}:{cmd[cmd.index('--port') + 1]}{PATHS[api]}"
        for name, cmd in commands.items()
    }
    procs: list[subprocess.Popen[bytes]] = []
    pids: dict[str, int] = {}
    startups: dict[str, list[float]] = {name: [] for name in commands}
    try:
        # The timed servers start in turn, round after round, so a change in the machine's load
        # falls on each alike; each one's last start, and the others' only one, stays up.
        for n in range(args.startup_runs):
            last = n == args.startup_runs - 1
            for name, cmd in commands.items():
                if not (last or name in TIMED):
                    continue
                proc, seconds = spawn(cmd, urls[name], tmp / f"{api}-{name}.log")
                procs.append(proc)
                startups[name].append(seconds)
                if name == "mock" and n == 0:  # the ceilings serve its bytes
                    body.write_bytes(httpx.get(urls[name], headers=HEADERS).content)
                if last:
                    pids[name] = proc.pid
                else:
                    stop(proc)
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in pids}
        for n in range(args.rounds):
            for name in pids:
                rounds[name].append(load(urls[name], lua, args, warm=n == 0))
        return {
            name: result(rounds[name], startup=statistics.median(startups[name]), pid=pid)
            for name, pid in pids.items()
        }
    finally:
        for proc in procs:
            stop(proc)


def _seconds(text: str) -> int:
    """A whole number of seconds, at least 1 (what wrk's -d takes)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds (1 or more)")
    return int(text)


def add_load_options(parser: argparse.ArgumentParser) -> None:
    """The wrk load every bench script takes (connections, threads, duration, warm-up), --json."""
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    # wrk takes whole seconds; a fraction would fail there, after the servers started
    parser.add_argument("--duration", type=_seconds, default=10, help="whole seconds")
    parser.add_argument("--warmup", type=_seconds, default=2, help="whole seconds")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")


def main() -> int:
    """Run the benchmark and print the table (or JSON); return the exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", choices=[*sorted(PATHS), "both"], default="both")
    add_load_options(parser)
    parser.add_argument(
        "--startup-runs",
        type=int,
        default=3,
        help="starts of the mock, --before and the ceiling, in turn; medians",
    )
    parser.add_argument("--rounds", type=int, default=3, help="loads of each server; medians")
    parser.add_argument("--no-prism", dest="prism", action="store_false", help="skip Prism")
    parser.add_argument(
        "--no-compile",
        dest="compile",
        action="store_false",
        help="leave usagemock's bytecode unwritten (with PYTHONDONTWRITEBYTECODE set, every "
        "start then compiles its modules)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="also run the mock from this checkout (e.g. `git archive main | tar -x -C DIR`)",
    )
    args = parser.parse_args()
    if args.startup_runs < 1:
        parser.error(f"--startup-runs {args.startup_runs}: start each server at least once (1)")
    args.threads = min(args.threads, args.connections)
    args.loadavg = os.getloadavg()[0]  # the machine's 1-min load before we start: noise hint
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    notes = []
    if args.prism and not install_prism():
        notes.append("Prism could not be installed (npm install @stoplight/prism-cli); skipped")
        args.prism = False
    if args.compile:  # the mock this interpreter runs, and the --before checkout's
        before = [args.before / "src" / "usagemock"] if args.before else []
        compile_packages([Path(usagemock.__file__).parent, *before])
    apis = sorted(PATHS) if args.api == "both" else [args.api]
    runs = {}
    with tempfile.TemporaryDirectory(prefix="usagemock-bench-") as tmp:
        lua = Path(tmp, "report.lua")
        lua.write_text(WRK_LUA)
        for api in apis:
            results = bench_api(api, args, Path(tmp), lua)
            runs[api] = {
                "results": {k: asdict(v) for k, v in results.items()},
                "checks": verdicts(results),
            }
            notes += [
                f"{api} {name}: {r.non2xx} non-2xx responses, {r.socket_errors} socket errors"
                for name, r in results.items()
                if r.non2xx or r.socket_errors
            ]
    summary = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "loadavg_after": os.getloadavg()[0],
        "apis": runs,
        "notes": notes,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        report(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
