"""An org's stored record (account, ingests, fault, scenario) and its JSON form.

The JSON form is what the admin API reads and replaces and what storage keeps; its schema is
``OrgRecord`` in ``specs/admin.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from usagemock.domain.faults import Fault
from usagemock.domain.kenbun import KenbunAccount, KenbunPlan, SubscriptionStatus, Trial
from usagemock.domain.timbal import TimbalAccount, TimbalPlan
from usagemock.domain.usage import Ingest, UsageCurve

Account = KenbunAccount | TimbalAccount

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
        """``kenbun`` or ``timbal``."""
        return "kenbun" if isinstance(self.account, KenbunAccount) else "timbal"

    @property
    def org_id(self) -> str:
        """The org's identifier."""
        return self.account.org_id


def stamp(moment: datetime) -> str:
    """A stored moment: UTC, to the microsecond, fixed width (so text order is time order)."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.%fZ")  # %Y does not pad year 220


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _curve_json(curve: UsageCurve) -> dict[str, Any]:
    since = None if curve.since is None else stamp(curve.since)
    return {
        "per_period": curve.expected_total,
        "opening": curve.opening,
        "seed": curve.seed,
        "since": since,
    }


def _curve(data: dict[str, Any]) -> UsageCurve:
    since = data.get("since")
    return UsageCurve(
        data["per_period"],
        data.get("opening", 0),
        data.get("seed", 0),
        None if since is None else _moment(since),
    )


def to_json(record: OrgRecord) -> dict[str, Any]:
    """The record as JSON (see ``OrgRecord`` in specs/admin.yaml)."""
    account = record.account
    data: dict[str, Any] = {"api": record.api, "org_id": account.org_id}
    if isinstance(account, KenbunAccount):
        trial = account.trial
        data |= {
            "org_name": account.org_name,
            "plan": vars(account.plan),
            "status": account.status.value,
            "trial": None
            if trial is None
            else {"ends_at": stamp(trial.ends_at), "then": trial.then.value},
        }
    else:
        data |= {"plan": vars(account.plan), "anchor": stamp(account.anchor)}
    data |= {
        "organic": _curve_json(account.curve),
        "ingests": [{"at": stamp(i.at), "amount": i.amount} for i in record.ingests],
        "fault": None if record.fault is None else vars(record.fault),
        "scenario": record.scenario,
        "applied_at": None if record.applied_at is None else stamp(record.applied_at),
    }
    return data


def from_json(data: dict[str, Any]) -> OrgRecord:
    """Rebuild a record from its JSON form (already validated against its schema)."""
    account: Account
    if data["api"] == "kenbun":
        trial = data.get("trial")
        account = KenbunAccount(
            org_id=data["org_id"],
            org_name=data["org_name"],
            plan=KenbunPlan(**data["plan"]),
            status=SubscriptionStatus(data["status"]),
            curve=_curve(data["organic"]),
            trial=None
            if not trial
            else Trial(_moment(trial["ends_at"]), SubscriptionStatus(trial["then"])),
        )
    else:
        account = TimbalAccount(
            org_id=data["org_id"],
            plan=TimbalPlan(**data["plan"]),
            anchor=_moment(data["anchor"]),
            curve=_curve(data["organic"]),
        )
    fault = data.get("fault")
    applied = data.get("applied_at")
    return OrgRecord(
        account=account,
        ingests=tuple(Ingest(_moment(i["at"]), i["amount"]) for i in data.get("ingests", [])),
        fault=None if not fault else Fault(**fault),
        scenario=data.get("scenario"),
        applied_at=None if applied is None else _moment(applied),
    )
