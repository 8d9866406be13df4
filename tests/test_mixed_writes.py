"""Every kind of write from several processes into a multi-worker server: none is lost.

Sixteen clients in four processes send 300 writes (ingests, faults set and cleared, record PUTs,
scenario applies, a reset, clock sets, advances and freezes) at once to
``usagemock serve --workers 2``, on each store backend (an SQLite file, a PostgreSQL database).
The answers and the final state must fit one serial order of the acknowledged writes
(``tests/mixed_load.py`` says how each is checked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import StateBackend
from tests.mixed_load import (
    ADMIN,
    clock_problems,
    fire,
    moment,
    org_path,
    org_problems,
    plan,
    stamp,
)
from tests.test_workers import serving
from usagemock.scenarios import load_scenarios

pytestmark = pytest.mark.e2e

NOW = "2026-03-17T14:30:00Z"
ORGS = ["org_m1", "org_m2"]
PROCESSES, CLIENTS, PER_CLIENT = 4, 16, 19  # plus scenario applies and resets: about 300


def view(client: httpx.Client, org: str) -> dict[str, Any]:
    """An org's admin view."""
    response = client.get(org_path(org))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_mixed_writes_from_several_processes_fit_one_serial_order(
    tmp_path: Path, state_backend: StateBackend
) -> None:
    """300 parallel writes of every kind over 2 workers: the final state is a serial order's."""
    kenbun = sorted(n for n, s in load_scenarios().items() if "kenbun" in s.sections)
    state = state_backend.location()
    with (
        serving(tmp_path, state, "--workers", "2", "--now", NOW) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        generated = {org: view(client, org)["record"] for org in ORGS}
        start = {}
        for org in ORGS:  # a named start, so a reset's state is told from it
            record = {**generated[org], "org_name": f"start-{org}"}
            assert client.put(org_path(org), json=record).status_code == 200
            start[org] = view(client, org)["record"]
        plans = plan(
            CLIENTS,
            ORGS,
            per_client=PER_CLIENT,
            now=moment(NOW),
            records=generated,
            scenarios=kenbun,
        )
        writes = fire(server.url, plans, processes=PROCESSES)
        finals = {org: view(client, org)["record"] for org in ORGS}
        final_clock = moment(client.get(f"{ADMIN}/clock").json()["now"])

    refused = [(w.op.kind, w.status, w.body) for w in writes if w.status not in (200, 204)]
    assert not refused, f"writes not acknowledged: {refused[:5]}"
    assert len(writes) == sum(map(len, plans)) >= 300
    problems = clock_problems(writes, moment(NOW), final_clock)
    clock_values = {moment(NOW)} | {
        moment(w.body["now"]) for w in writes if w.op.kind in ("set", "advance")
    }
    for org in ORGS:
        problems += org_problems(org, writes, start[org], generated[org], finals[org], clock_values)
    assert not problems, "\n".join(problems)
    assert stamp(final_clock) != stamp(moment(NOW))  # the load did move the clock
