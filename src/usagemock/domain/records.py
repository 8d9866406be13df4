"""An org's stored record: its account (of whichever API), ingests, fault and scenario.

Each API's account type lives in its definition (``usagemock.apis``); the record holds any
:class:`Account`. Its JSON form is :mod:`usagemock.stored`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from usagemock.domain.faults import Fault
from usagemock.domain.usage import Ingest, UsageCurve


class Account(Protocol):
    """What every API's account has: the API it belongs to, its org and its organic usage."""

    @property
    def api(self) -> str:
        """The name of the API whose account this is."""

    @property
    def org_id(self) -> str:
        """The org's identifier."""

    @property
    def curve(self) -> UsageCurve:
        """How the org consumes on its own, period by period."""


# What an org's ingests may add up to (assumed): with plan counts of at most 10**15 and organic
# usage of at most 10**15 a period, every count either API reports stays far inside int64.
MAX_INGESTED = 10**15


@dataclass(frozen=True)
class OrgRecord:
    """Everything the mock keeps about one org of one API."""

    account: Account
    ingests: tuple[Ingest, ...] = ()
    fault: Fault | None = None
    scenario: str | None = None
    """The scenario the org was last put into, if any."""
    applied_at: datetime | None = field(default=None)
    """When that scenario was applied: its timeline counts from here."""

    @property
    def api(self) -> str:
        """The name of the org's API."""
        return self.account.api

    @property
    def org_id(self) -> str:
        """The org's identifier."""
        return self.account.org_id


def stamp(moment: datetime) -> str:
    """A stored moment: UTC, to the microsecond, fixed width (so text order is time order)."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.%fZ")  # %Y does not pad year 220


def parse_stamp(text: str) -> datetime:
    """The moment a stored (or any ISO 8601 ``Z``) timestamp names."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def curve_json(curve: UsageCurve) -> dict[str, Any]:
    """A curve as its stored ``organic`` object."""
    since = None if curve.since is None else stamp(curve.since)
    return {
        "per_period": curve.expected_total,
        "opening": curve.opening,
        "seed": curve.seed,
        "since": since,
    }


def curve_from_json(data: Mapping[str, Any]) -> UsageCurve:
    """The curve a stored ``organic`` object describes."""
    since = data.get("since")
    return UsageCurve(
        data["per_period"],
        data.get("opening", 0),
        data.get("seed", 0),
        None if since is None else parse_stamp(since),
    )
