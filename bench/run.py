"""Benchmark the usagemock server against a bare Starlette "ceiling" serving the same bytes.

Run: python bench/run.py [--api kenbun|timbal] [--connections 32] [--duration 10] [--json]

Needs wrk (apt-get install wrk). Both servers run under uvicorn (one worker, log level
warning, no access log) on 127.0.0.1; wrk loads each in turn with the same settings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
HEADERS = {"Authorization": "Bearer demo"}
PATHS = {"kenbun": "/usage", "timbal": "/orgs/org_bench/billing/overage"}
TARGETS = {"ratio_rps": 0.30, "startup_s": 0.5, "rss_mib": 80.0}
CEILING = Path(__file__).with_name("ceiling.py")
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


def free_port() -> int:
    """Return a currently free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def mock_cmd(api: str, port: int) -> tuple[list[str], list[str]]:
    """Build the mock's command line from its --help; also return notes on missing flags."""
    base = [sys.executable, "-m", "usagemock", "serve"]
    help_text = subprocess.run([*base, "--help"], capture_output=True, text=True).stdout
    cmd = [*base, "--api", api, "--host", HOST, "--port", str(port), "--seed", "1"]
    notes = []
    if "--log-level" in help_text:
        cmd += ["--log-level", "warning"]
    else:
        notes.append("mock CLI has no --log-level flag")
    if "--no-access-log" in help_text:
        cmd.append("--no-access-log")
    else:
        notes.append("mock CLI has no --no-access-log flag: access log stays on")
    return cmd, notes


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
            time.sleep(0.01)
    stop(proc)
    sys.exit(f"server did not answer 200 on {url}: {' '.join(cmd)}\n{log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the process group of `proc`, killing it if it lingers."""
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def start_timed(cmd: list[str], url: str, log: Path, runs: int,
                procs: list[subprocess.Popen[bytes]]) -> tuple[int, float]:
    """Spawn `runs` times; return the last one's pid (left running) and the median start-up."""
    times = []
    for i in range(runs):
        proc, seconds = spawn(cmd, url, log)
        procs.append(proc)
        times.append(seconds)
        if i < runs - 1:
            stop(proc)
    return proc.pid, statistics.median(times)


def tree_pids(pid: int) -> list[int]:
    """Return `pid` and all its descendants."""
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids += tree_pids(int(child))
    return pids


def memory_mib(pid: int) -> tuple[float, float]:
    """Return (VmRSS, VmHWM) in MiB summed over the process tree of `pid`."""
    rss = hwm = 0
    for p in tree_pids(pid):
        lines = Path(f"/proc/{p}/status").read_text().splitlines()
        kib = dict(line.split(":", 1) for line in lines if line.startswith("Vm"))
        rss += int(kib["VmRSS"].split()[0])
        hwm += int(kib["VmHWM"].split()[0])
    return rss / 1024, hwm / 1024


def wrk(url: str, lua: Path, connections: int, threads: int, seconds: float) -> dict[str, float]:
    """Run wrk against `url` and return the JSON line printed by the Lua done() hook."""
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds:g}s",
           "-s", str(lua), url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"^BENCH_JSON (\{.*\})$", proc.stdout, re.M)
    if proc.returncode != 0 or match is None:
        sys.exit(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data: dict[str, float] = json.loads(match.group(1))
    return data


def load(url: str, lua: Path, args: argparse.Namespace, startup: float, pid: int) -> Result:
    """Warm up, load `url` with wrk, then read the server's memory."""
    wrk(url, lua, args.connections, args.threads, args.warmup)
    w = wrk(url, lua, args.connections, args.threads, args.duration)
    rss, hwm = memory_mib(pid)
    return Result(rps=w["requests"] / (w["duration_us"] / 1e6), p50_ms=w["p50_us"] / 1000,
                  p99_ms=w["p99_us"] / 1000, startup_s=startup, rss_mib=rss, hwm_mib=hwm,
                  non2xx=int(w["non2xx"]), socket_errors=int(w["socket_errors"]))


def verdicts(mock: Result, ceiling: Result) -> dict[str, dict[str, float | str]]:
    """Compare the mock with the targets; return value, target and PASS/MISS per target."""
    values = {"ratio_rps": mock.rps / ceiling.rps, "startup_s": mock.startup_s,
              "rss_mib": mock.rss_mib}
    return {k: {"value": round(v, 3), "target": TARGETS[k],
                "verdict": "PASS" if (v >= TARGETS[k] if k == "ratio_rps" else v <= TARGETS[k])
                else "MISS"} for k, v in values.items()}


def report(results: dict[str, Result], checks: dict[str, dict[str, float | str]],
           args: argparse.Namespace, notes: list[str]) -> None:
    """Print a human-readable table of the results."""
    print(f"api={args.api} path={PATHS[args.api]} connections={args.connections} "
          f"threads={args.threads} duration={args.duration:g}s warmup={args.warmup:g}s")
    print(f"{'server':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'start s':>8} "
          f"{'RSS MiB':>8} {'HWM MiB':>8} {'non2xx':>7} {'sockerr':>7}")
    for name, r in results.items():
        print(f"{name:<8} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.startup_s:>8.3f} "
              f"{r.rss_mib:>8.1f} {r.hwm_mib:>8.1f} {r.non2xx:>7} {r.socket_errors:>7}")
    labels = {"ratio_rps": "mock/ceiling req/s", "startup_s": "mock start-up s",
              "rss_mib": "mock RSS MiB"}
    for key, c in checks.items():
        op = ">=" if key == "ratio_rps" else "<="
        print(f"{labels[key]:<20} {c['value']:>8} {op} {c['target']:<5} {c['verdict']}")
    for note in notes:
        print(f"note: {note}")


def main() -> int:
    """Run the benchmark and print the table (or JSON); return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", choices=sorted(PATHS), default="kenbun")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="usagemock-bench-") as tmp:
        lua, body = Path(tmp, "report.lua"), Path(tmp, "body.json")
        lua.write_text(WRK_LUA)
        mport, cport = free_port(), free_port()
        murl, curl = (f"http://{HOST}:{p}{PATHS[args.api]}" for p in (mport, cport))
        cmd, notes = mock_cmd(args.api, mport)
        ceiling_cmd = [sys.executable, str(CEILING), "--host", HOST, "--port", str(cport),
                       "--path", PATHS[args.api], "--body-file", str(body)]
        try:
            mpid, mstart = start_timed(cmd, murl, Path(tmp, "mock.log"), args.startup_runs, procs)
            body.write_bytes(httpx.get(murl, headers=HEADERS).content)
            cpid, cstart = start_timed(ceiling_cmd, curl, Path(tmp, "ceiling.log"),
                                       args.startup_runs, procs)
            results = {"mock": load(murl, lua, args, mstart, mpid),
                       "ceiling": load(curl, lua, args, cstart, cpid)}
        finally:
            for proc in procs:
                stop(proc)
    checks = verdicts(results["mock"], results["ceiling"])
    notes += [f"{name}: {r.non2xx} non-2xx responses, {r.socket_errors} socket errors"
              for name, r in results.items() if r.non2xx or r.socket_errors]
    if args.json:
        print(json.dumps({"api": args.api, "connections": args.connections,
                          "threads": args.threads, "duration_s": args.duration,
                          "results": {k: asdict(v) for k, v in results.items()},
                          "checks": checks, "notes": notes}, indent=2))
    else:
        report(results, checks, args, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
