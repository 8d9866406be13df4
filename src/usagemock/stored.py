"""An org's record as JSON: what the admin API reads and replaces, and what storage keeps.

Its schema is ``OrgRecord`` in ``specs/admin.yaml``. The parts every record has are written
here; the account's own fields by its API's definition (``account_json``), next to ``api``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from usagemock.apis import definition
from usagemock.domain.faults import Fault
from usagemock.domain.records import OrgRecord, curve_json, parse_stamp, stamp
from usagemock.domain.usage import Ingest


def to_json(record: OrgRecord) -> dict[str, Any]:
    """The record as JSON (see ``OrgRecord`` in specs/admin.yaml)."""
    account = record.account
    return {
        "api": record.api,
        "org_id": account.org_id,
        **definition(record.api).account_json(account),
        "organic": curve_json(account.curve),
        "ingests": [{"at": stamp(i.at), "amount": i.amount} for i in record.ingests],
        "fault": None if record.fault is None else vars(record.fault),
        "scenario": record.scenario,
        "applied_at": None if record.applied_at is None else stamp(record.applied_at),
    }


def from_json(data: Mapping[str, Any]) -> OrgRecord:
    """Rebuild a record from its JSON form (already validated against its schema)."""
    fault = data.get("fault")
    applied = data.get("applied_at")
    return OrgRecord(
        account=definition(data["api"]).account_from_json(data),
        ingests=tuple(Ingest(parse_stamp(i["at"]), i["amount"]) for i in data.get("ingests", [])),
        fault=None if not fault else Fault(**fault),
        scenario=data.get("scenario"),
        applied_at=None if applied is None else parse_stamp(applied),
    )
