"""The usage chart as JSON (``GET /_usagemock/orgs/{api}/{org_id}/chart``, specs/admin.yaml)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from usagemock.apis import definition
from usagemock.domain.overview import sample
from usagemock.domain.periods import isoformat
from usagemock.domain.records import OrgRecord


def chart_json(record: OrgRecord, now: datetime) -> dict[str, Any]:
    """The org's usage over the period holding ``now`` and those its timeline reaches, sampled.

    See ``Chart`` in specs/admin.yaml.
    """
    chart = definition(record.api).overview.chart(record.account, now, record.ingests)
    sampled = sample(chart, now, record.ingests)
    return {
        "api": record.api,
        "org_id": record.org_id,
        "now": isoformat(now),
        "unit": chart.unit,
        "periods": [
            {"start": isoformat(period.start), "end": isoformat(period.end)}
            for period in sampled.periods
        ],
        "times": [isoformat(moment) for moment in sampled.times],
        "lines": [
            {"key": line.key, "label": line.label, "values": list(values)}
            for line, values in zip(chart.lines, sampled.values, strict=True)
        ],
        "limits": [
            {"key": limit.key, "label": limit.label, "value": limit.value} for limit in chart.limits
        ],
        "ingests": [
            {"at": isoformat(ingest.at), "amount": ingest.amount, "future": ingest.at > now}
            for ingest in sampled.ingests
        ],
    }
