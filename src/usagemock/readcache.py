"""A worker's copy of the clock and of org records, current while the store says nothing changed.

Every API request reads the clock and one org's record. Each read was a transaction of its own
(two per request); with this cache a request costs one :meth:`Store.data_version` call for both
while no write has committed anywhere, and one fresh read after any commit, by any worker. The
version is taken *before* the read it labels, so a write that lands during the read only makes
the copy look older than it is (it is read again next time), never newer: no read is stale once
another worker has acknowledged a write, since that write committed before it was acknowledged.
"""

from __future__ import annotations

import threading

from usagemock.domain.clock import ClockState
from usagemock.domain.records import OrgRecord
from usagemock.store import Store

#: Records kept at most; past it the copy starts again (a mock under load reads few orgs).
MAX_RECORDS = 4096

_CLOCK = ("", "")  # the clock's key: no org has an empty API name


class ReadCache:
    """What :meth:`Store.read` returns for the clock and each org, kept per data version."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()  # the engine may be called from threads (embedding code)
        self._version: int | None = None
        self._kept: dict[tuple[str, str], ClockState | OrgRecord | None] = {}

    def clock(self) -> ClockState:
        """The shared clock."""
        return self.clock_and_record("", "")[0]

    def clock_and_record(self, api: str, org_id: str) -> tuple[ClockState, OrgRecord | None]:
        """The clock and an org's stored record (None if it has none), of one data version.

        ``api`` "" reads just the clock. A copy is read again, in one transaction, when either
        is missing.
        """
        with self._lock:
            version = self._store.data_version()
            if version != self._version or len(self._kept) >= MAX_RECORDS:
                self._kept.clear()
                self._version = version
            key = (api, org_id)
            clock, record = self._kept.get(_CLOCK), self._kept.get(key)
            if clock is None or (api and key not in self._kept):
                with self._store.read() as state:
                    clock = self._kept[_CLOCK] = state.clock()
                    if api:
                        record = self._kept[key] = state.get(api, org_id)
            return clock, record  # type: ignore[return-value]
