"""Every kind of admin write fired at one server from several processes, and what the answers prove.

Used by ``tests/test_mixed_writes.py`` (exact check of the final state) and by
``bench/soak_kill.py`` (the server is killed mid-load). Each client process sends its own list of
writes one after another, so its writes are ordered in real time; the processes run at once.
Every value a write carries is unique (ingest amounts, fault latencies, record names, clock
moments and steps), so the answers and the final state say which write did what.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

ADMIN = "/_usagemock"
CLOCK_KINDS = ("set", "advance", "freeze")
REPLACING = ("put", "scenario", "reset")
"""Writes that replace an org's whole state by design."""


@dataclass(frozen=True)
class Op:
    """One write to send: its kind, the org it is for (None: the clock) and what it carries."""

    kind: str
    org: str | None
    arg: Any = None


@dataclass(frozen=True, eq=False)  # each write is itself: hashed by identity
class Write:
    """One write as it went: when it started and ended (monotonic seconds) and its answer."""

    client: int
    op: Op
    start: float
    end: float
    status: int | None
    """None when no answer came (the server went away)."""
    body: Any = None


def org_path(org: str) -> str:
    """The admin path of a Kenbun org."""
    return f"{ADMIN}/orgs/kenbun/{quote(org, safe='')}"


def moment(text: str) -> datetime:
    """An RFC 3339 moment from an answer."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stamp(when: datetime) -> str:
    """A moment as the admin API takes it, to the microsecond."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def request(client: httpx.Client, op: Op) -> httpx.Response:
    """Send one write."""
    if op.kind in CLOCK_KINDS:
        if op.kind == "advance":
            return client.post(f"{ADMIN}/clock/advance", json={"by": f"PT{op.arg}S"})
        body = {"frozen": True} if op.kind == "freeze" else {"now": op.arg, "frozen": True}
        return client.put(f"{ADMIN}/clock", json=body)
    assert op.org is not None
    path = org_path(op.org)
    sends = {
        "ingest": lambda: client.post(f"{path}/ingest", json={"amount": op.arg}),
        "fault": lambda: client.put(f"{path}/fault", json={"latency_ms": op.arg}),
        "clear": lambda: client.delete(f"{path}/fault"),
        "put": lambda: client.put(path, json=op.arg),
        "scenario": lambda: client.put(f"{path}/scenario", json={"name": op.arg}),
        "reset": lambda: client.post(f"{path}/reset"),
    }
    return sends[op.kind]()


def run_client(url: str, client_id: int, ops: list[Op], start_at: float) -> list[Write]:
    """Send ``ops`` in order from ``start_at`` (monotonic); stop at the first one unanswered."""
    done = []
    # No keep-alive: each request is a new connection, so the kernel spreads them over workers.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=url, timeout=30, limits=limits) as client:
        time.sleep(max(0.0, start_at - time.monotonic()))
        for op in ops:
            start = time.monotonic()
            try:
                response = request(client, op)
            except httpx.TransportError:
                done.append(Write(client_id, op, start, time.monotonic(), None))
                break
            body = response.json() if response.content else None
            done.append(Write(client_id, op, start, time.monotonic(), response.status_code, body))
    return done


def run_clients(url: str, plans: dict[int, list[Op]], start_at: float) -> list[Write]:
    """Run each plan (by client id) in a thread of its own; every write, in no order."""
    with ThreadPoolExecutor(len(plans)) as threads:
        runs = [
            threads.submit(run_client, url, client, ops, start_at) for client, ops in plans.items()
        ]
        return [write for run in runs for write in run.result()]


def fire(url: str, plans: list[list[Op]], *, processes: int, lead_s: float = 2.0) -> list[Write]:
    """Run the plans as clients spread over ``processes`` processes, all starting together."""
    start_at = time.monotonic() + lead_s  # CLOCK_MONOTONIC is one clock for every process
    shares = [list(range(n, len(plans), processes)) for n in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.starmap(
            run_clients,
            [(url, {i: plans[i] for i in share}, start_at) for share in shares if share],
        )
    return [write for writes in results for write in writes]


def plan(
    clients: int,
    orgs: list[str],
    *,
    per_client: int,
    now: datetime,
    records: dict[str, dict[str, Any]],
    scenarios: list[str],
    seed: int = 0,
) -> list[list[Op]]:
    """Each client's writes: every kind, each carrying a value no other write carries.

    Ingests and faults go to every org; the writes that replace an org's whole state (record
    PUTs of ``records[org]`` renamed, scenario applies, a reset) only to the first, so the others
    keep every ingest to the end. The first org gets one reset (a second would put back the same
    generated record, and could not be told from the first) and each scenario at most once.
    """
    rng = random.Random(seed)
    unique = iter(range(1, 10**9))
    weights = {"ingest": 8, "fault": 2, "clear": 1, "put": 1, "set": 1, "advance": 3, "freeze": 1}
    replaced = orgs[0]
    pool = rng.sample(scenarios, len(scenarios))
    plans: list[list[Op]] = []
    for client in range(clients):
        ops = []
        for _ in range(per_client):
            kind = rng.choices(list(weights), list(weights.values()))[0]
            org = rng.choice(orgs)
            if kind == "ingest":
                ops.append(Op(kind, org, 1_000_000 + next(unique)))
            elif kind == "fault":
                ops.append(Op(kind, org, next(unique)))
            elif kind == "clear":
                ops.append(Op(kind, org))
            elif kind == "put":
                n = next(unique)
                ingests = [{"at": stamp(now), "amount": 500_000 + n}]
                body = {**records[replaced], "org_name": f"put-{n}", "ingests": ingests}
                ops.append(Op(kind, replaced, {**body, "fault": None}))
            elif kind == "set":
                # 30 days apart, and all advances together add less than a day: no two
                # clock values can be equal
                ops.append(Op(kind, None, stamp(now + timedelta(days=30 * next(unique)))))
            elif kind == "advance":
                ops.append(Op(kind, None, next(unique)))
            else:
                ops.append(Op(kind, None))
        if pool and client % 2:
            ops.append(Op("scenario", replaced, pool.pop()))
        if client == 0:
            ops.append(Op("reset", replaced))
        rng.shuffle(ops)
        plans.append(ops)
    return plans


def base_key(record: dict[str, Any]) -> str:
    """What identifies the base an org's state was built on: all but its ingests and fault."""
    return repr(sorted((k, repr(v)) for k, v in record.items() if k not in ("ingests", "fault")))


def amounts(record: dict[str, Any]) -> list[tuple[str, int]]:
    """A record's ingests as sorted (at, amount) pairs."""
    return sorted((i["at"], i["amount"]) for i in record["ingests"])


def clock_problems(writes: list[Write], initial: datetime, final: datetime) -> list[str]:
    """Why the clock writes' answers and the final clock fit no serial order ([] when they do).

    An advance's answer minus its step is the value it moved from: that must be a value the
    clock had (the start, or another write's answer), and no two advances may move from one
    value (one would have been lost). The final value must come from a write no clock change
    started after.
    """
    clock = [w for w in writes if w.op.kind in CLOCK_KINDS]
    shown = {w: moment(w.body["now"]) for w in clock}
    changes = [w for w in clock if w.op.kind != "freeze"]
    values = [initial, *(shown[w] for w in changes)]
    problems = []
    if len(set(values)) != len(values):
        problems.append("the plan gave two clock writes one value; the check needs them unique")
    moved_from: dict[datetime, Write] = {}
    for write in clock:
        if write.op.kind == "freeze" and shown[write] not in values:
            problems.append(f"freeze answered {shown[write]}, a value the clock never had")
        if write.op.kind != "advance":
            continue
        before = shown[write] - timedelta(seconds=write.op.arg)
        if before not in values:
            problems.append(f"advance by {write.op.arg} s moved from {before}, never a value")
        elif before in moved_from:
            problems.append(
                f"advances by {write.op.arg} s and {moved_from[before].op.arg} s both "
                f"moved from {before}: one was lost"
            )
        moved_from[before] = write
    last = [w for w in changes if shown[w] == final]
    if final not in values:
        problems.append(f"the final clock {final} is no write's answer")
    elif final in moved_from:
        problems.append(f"the final clock {final} was moved on from by an acknowledged advance")
    elif last and any(w.start > last[0].end for w in changes):
        problems.append(f"the final clock {final} is from a write another change followed")
    elif not last and changes:
        problems.append(f"the clock is back at its start {final} after {len(changes)} changes")
    return problems


def org_problems(
    org: str,
    writes: list[Write],
    start: dict[str, Any],
    generated: dict[str, Any],
    final: dict[str, Any],
    clock_values: set[datetime],
) -> list[str]:
    """Why one org's writes and final record fit no serial order ([] when they do).

    The final record's base (all but ingests and fault) names the replacing write it comes
    from (``start`` counts as one made before the load, a reset gives back ``generated``); no
    replacing write may have started after that one ended. Its ingests must be exactly that
    write's plus every acknowledged ingest whose answer showed the same base, and its fault the
    one a write on that base set last, or the base's own if none did.
    """
    mine = [w for w in writes if w.op.org == org]
    replacing: dict[Any, tuple[Write | None, dict[str, Any]]] = {base_key(start): (None, start)}
    for write in mine:
        if write.op.kind in REPLACING:
            record = generated if write.op.kind == "reset" else write.body["record"]
            key = base_key(record)
            if key in replacing:
                return [f"{org}: two replacing writes gave one base; the check needs them unique"]
            replacing[key] = (write, record)
    key = base_key(final)
    if key not in replacing:
        return [f"{org}: the final record's base comes from no acknowledged write: {final}"]
    last, base = replacing[key]
    problems = []
    if last is not None and any(
        w.start > last.end for w, _ in replacing.values() if w is not None and w is not last
    ):
        problems.append(f"{org}: the final base is from {last.op.kind}, which another followed")
    epoch = [w for w in mine if w.op.kind not in REPLACING and base_key(w.body["record"]) == key]
    for write in mine:
        if write.op.kind not in REPLACING and base_key(write.body["record"]) not in replacing:
            problems.append(f"{org}: {write.op.kind} answered from an unknown base")
    ingests = [w for w in epoch if w.op.kind == "ingest"]
    expected = list(amounts(base))
    for write in ingests:
        ours = [(at, n) for at, n in amounts(write.body["record"]) if n == write.op.arg]
        if len(ours) != 1:
            problems.append(f"{org}: ingest {write.op.arg} is not in its own answer once")
            continue
        expected.append(ours[0])
        if moment(ours[0][0]) not in clock_values:
            problems.append(f"{org}: ingest {write.op.arg} is dated {ours[0][0]}, no clock value")
        seen = {n for _, n in amounts(write.body["record"])}
        for other in ingests:
            if other.end < write.start and other.op.arg not in seen:
                problems.append(f"{org}: ingest {write.op.arg} lost {other.op.arg}, made before")
    if sorted(expected) != amounts(final):
        got = {n for _, n in amounts(final)}
        want = {n for _, n in expected}
        problems.append(
            f"{org}: ingests differ; missing {sorted(want - got)}, unexpected {sorted(got - want)}"
        )
    faults = [w for w in epoch if w.op.kind in ("fault", "clear")]
    if not faults:
        if final["fault"] != base["fault"]:
            problems.append(f"{org}: fault {final['fault']} but its base has {base['fault']}")
    else:
        candidates = [
            w
            for w in faults
            if w.body["record"]["fault"] == final["fault"]
            and not any(other.start > w.end for other in faults)
        ]
        if not candidates:
            problems.append(f"{org}: the final fault {final['fault']} is not the last one set")
    applied = base.get("applied_at")
    scenario_last = last is not None and last.op.kind == "scenario"
    if scenario_last and (applied is None or moment(applied) not in clock_values):
        problems.append(f"{org}: scenario applied at {applied}, a moment the clock never showed")
    return problems
