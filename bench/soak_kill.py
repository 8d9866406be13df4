"""Kill -9 a multi-worker mock under a mixed write load and restart it: no acknowledged write lost.

Run: python bench/soak_kill.py [--rounds 3] [--workers 2] [--clients 16] [--load-seconds 4]

Each round starts `usagemock serve --workers N` on a fresh state file (its own process group),
fires every kind of admin write at it from many clients in several processes
(`tests/mixed_load.py`), sends SIGKILL to the whole process group mid-load, restarts the server
on the same file and checks that every acknowledged write survived: each acknowledged ingest is
in its org unless a later acknowledged write replaced the org's state by design, no acknowledged
clock advance is undone, faults and clock are those of the last acknowledged (or an in-flight)
write. Not part of CI; prints the numbers and exits 1 if anything acknowledged was lost.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.mixed_load

from tests.mixed_load import (
    ADMIN,
    CLOCK_KINDS,
    REPLACING,
    Write,
    amounts,
    base_key,
    fire,
    moment,
    org_path,
    plan,
)
from usagemock.scenarios import load_scenarios

HOST = "127.0.0.1"
NOW = "2026-03-17T14:30:00Z"
ORGS = ["org_s1", "org_s2"]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start(state: Path, port: int, workers: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """`usagemock serve` in a process group of its own, returned once it answers."""
    command = [sys.executable, "-m", "usagemock", "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--state", str(state), "--no-access-log", *extra]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://{HOST}:{port}{ADMIN}/clock", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"usagemock serve did not start; see {log}")


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the server and every worker (its whole process group)."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def problems_after_restart(
    writes: list[Write], finals: dict[str, dict[str, Any]], final_clock: datetime
) -> tuple[int, int, list[str]]:
    """(acknowledged ingests no later write replaced, of those found, what is missing and why)."""
    acked = [w for w in writes if w.status is not None]
    maybe = [w for w in writes if w.status is None]
    problems = []
    ingests = found = 0
    for org, final in finals.items():
        key = base_key(final)
        present = {n for _, n in amounts(final)}
        mine = [w for w in acked if w.op.org == org and w.op.kind not in REPLACING]
        epoch = [w for w in mine if base_key(w.body["record"]) == key]
        for write in (w for w in epoch if w.op.kind == "ingest"):
            ingests += 1
            found += write.op.arg in present
            if write.op.arg not in present:
                problems.append(f"{org}: acknowledged ingest {write.op.arg} is gone")
        replaced = [w for w in acked if w.op.org == org and w.op.kind in REPLACING]
        last = [w for w in replaced if w.op.kind != "reset" and base_key(w.body["record"]) == key]
        if last and any(w.start > last[0].end for w in replaced):
            problems.append(f"{org}: its state is from a {last[0].op.kind} a later one replaced")
        faults = [w for w in epoch if w.op.kind in ("fault", "clear")]
        settled = [w for w in faults if not any(o.start > w.end for o in faults)]
        possible = [w.body["record"]["fault"] for w in settled]
        possible += [
            None if w.op.kind == "clear" else {"latency_ms": w.op.arg}
            for w in maybe
            if w.op.org == org and w.op.kind in ("fault", "clear")
        ]
        if faults and not any(_same_fault(final["fault"], f) for f in possible):
            problems.append(f"{org}: fault {final['fault']} is not the last acknowledged one")
    clock = [w for w in acked if w.op.kind in CLOCK_KINDS and w.op.kind != "freeze"]
    moved_from = {
        moment(w.body["now"]) - timedelta(seconds=w.op.arg) for w in clock if w.op.kind == "advance"
    }
    if final_clock in moved_from:
        problems.append(f"the clock is back at {final_clock}, which an acknowledged advance left")
    shown = [w for w in clock if moment(w.body["now"]) == final_clock]
    if shown and any(w.start > shown[0].end for w in clock):
        problems.append(f"the clock shows {final_clock}, which a later acknowledged write changed")
    return ingests, found, problems


def _same_fault(final: dict[str, Any] | None, expected: dict[str, Any] | None) -> bool:
    """Whether a stored fault is the one a write set (a write names only what it sets)."""
    if final is None or expected is None:
        return final is expected
    return all(final.get(field) == value for field, value in expected.items())


def soak_round(
    args: argparse.Namespace, folder: Path, number: int
) -> tuple[dict[str, Any], list[str]]:
    """One kill-and-restart round on a fresh state file; its numbers and its problems."""
    state, log = folder / f"state-{number}.sqlite3", folder / f"serve-{number}.log"
    port = free_port()
    url = f"http://{HOST}:{port}"
    server = start(state, port, args.workers, log, "--now", NOW)
    with httpx.Client(base_url=url, timeout=10) as client:
        records = {org: client.get(org_path(org)).json()["record"] for org in ORGS}
    kenbun = sorted(n for n, s in load_scenarios().items() if "kenbun" in s.sections)
    plans = plan(
        args.clients,
        ORGS,
        per_client=args.per_client,
        now=moment(NOW),
        records=records,
        scenarios=kenbun,
        seed=number,
    )
    began: list[float] = []
    killed: list[float] = []

    def kill() -> None:
        # the load has begun once the clock moves (advances are a sixth of the writes)
        while httpx.get(f"{url}{ADMIN}/clock", timeout=10).json()["now"] == NOW:
            time.sleep(0.05)
        began.append(time.monotonic())
        time.sleep(args.load_seconds)
        kill_group(server)
        killed.append(time.monotonic())

    killer = threading.Thread(target=kill)
    killer.start()
    writes = fire(url, plans, processes=args.processes)
    killer.join()
    restart_began = time.monotonic()
    server = start(state, port, args.workers, log)  # no --now: the stored clock must hold
    restarted = time.monotonic() - restart_began
    with httpx.Client(base_url=url, timeout=10) as client:
        finals = {org: client.get(org_path(org)).json()["record"] for org in ORGS}
        final_clock = moment(client.get(f"{ADMIN}/clock").json()["now"])
    kill_group(server)
    ingests, found, problems = problems_after_restart(writes, finals, final_clock)
    numbers = {
        "round": number,
        "writes acknowledged": sum(w.status is not None for w in writes),
        "refused": sum(w.status is not None and w.status >= 400 for w in writes),
        "unanswered (killed)": sum(w.status is None for w in writes),
        "ingests acknowledged": sum(w.status is not None and w.op.kind == "ingest" for w in writes),
        "still on their base": ingests,
        "found": found,
        "lost": ingests - found,
        "other problems": len(problems) - (ingests - found),
        "load s": round(killed[0] - began[0], 2),
        "restart s": round(restarted, 2),
    }
    return numbers, problems


def main() -> int:
    """Run the rounds, print each one's numbers; exit 1 if an acknowledged write was lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=2000, help="more than can be sent")
    parser.add_argument("--load-seconds", type=float, default=4.0, help="load before the kill")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="usagemock-soak-") as tmp:
        for number in range(1, args.rounds + 1):
            numbers, problems = soak_round(args, Path(tmp), number)
            print("  ".join(f"{name}: {value}" for name, value in numbers.items()), flush=True)
            for problem in problems[:20]:
                print(f"    {problem}")
            failed |= bool(problems) or numbers["refused"] > 0
    print("FAIL: acknowledged writes were lost" if failed else "PASS: no acknowledged write lost")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
