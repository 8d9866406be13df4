"""A worker's copy of the clock and of org records, current while the store says nothing changed.

Every API request reads the clock and one org's record. Each read was a transaction of its own
(two per request); with this cache a request costs one :meth:`Store.data_version` call while no
write has committed anywhere, and a fresh read after any commit, by any worker. The version is
taken *before* the read it labels, so a write that lands during the read only makes the copy
look older than it is (it is read again next time), never newer: no read is stale once another
worker has acknowledged a write, since that write committed before it was acknowledged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from usagemock.domain.clock import ClockState
from usagemock.domain.records import OrgRecord
from usagemock.store import StateView, Store

T = TypeVar("T")

#: Records kept at most; past it the copy starts again (a mock under load reads few orgs).
MAX_RECORDS = 4096

_CLOCK = ("", "")  # the clock's key: no org has an empty API name


class ReadCache:
    """What :meth:`Store.read` returns for the clock and each org, kept per data version."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()  # admin handlers may run in connexion's thread pool
        self._version: int | None = None
        self._kept: dict[tuple[str, str], object] = {}

    def clock(self) -> ClockState:
        """The shared clock."""
        return self._get(_CLOCK, lambda state: state.clock())

    def record(self, api: str, org_id: str) -> OrgRecord | None:
        """The stored record of an org, or None if it has none."""
        return self._get((api, org_id), lambda state: state.get(api, org_id))

    def _get(self, key: tuple[str, str], read: Callable[[StateView], T]) -> T:
        with self._lock:
            version = self._store.data_version()
            if version != self._version or len(self._kept) >= MAX_RECORDS:
                self._kept.clear()
                self._version = version
            if key in self._kept:
                return self._kept[key]  # type: ignore[return-value]
            with self._store.read() as state:
                value = read(state)
            self._kept[key] = value
            return value
