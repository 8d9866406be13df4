"""The pieces of a scenario file's schema every API's section shares, and its ingest helper.

A definition describes its own section fields with these (counts, shares, durations, closed
objects); :func:`section_schema` adds the ``timeline``, ``fault`` and ``expect`` every section
may hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from usagemock.domain.usage import Ingest

DURATION = {
    "type": "string",
    "pattern": r"^-?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?"
    r"(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$",
}
# Every count at most 10**15 and at most MAX_TIMELINE steps (our choice, as the admin API's
# Count): whatever a scenario adds up to stays far inside the APIs' int64 fields.
COUNT = {"type": "integer", "minimum": 0, "maximum": 10**15}
SHARE = {"type": "number", "minimum": 0, "maximum": 1000}
MAX_TIMELINE = 1000


def closed(properties: Mapping[str, Any], *required: str) -> dict[str, Any]:
    """An object schema that takes exactly ``properties`` (a typo in a file is an error)."""
    schema = {"type": "object", "additionalProperties": False, "properties": dict(properties)}
    return schema | ({"required": list(required)} if required else {})


_FAULT = closed(
    {
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "latency_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
        "jitter_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
    }
) | {  # a fault must do something (as the admin API's Fault): a status or some latency
    "anyOf": [
        {"required": ["status"]},
        {"required": ["latency_ms"], "properties": {"latency_ms": {"minimum": 1}}},
        {"required": ["jitter_ms"], "properties": {"jitter_ms": {"minimum": 1}}},
    ]
}
# What the API answers right after the scenario is applied; the contract kit checks it
# (usagemock.kit.expectations): a literal, or one comparison against a literal or "$field".
_EXPECT = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [
            {"type": ["string", "number", "boolean", "null"]},
            {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "propertyNames": {"enum": ["==", "!=", ">", ">=", "<", "<="]},
            },
        ]
    },
    "properties": {"status": {"type": "integer", "minimum": 200, "maximum": 599}},
}
_TIMELINE = {
    "type": "array",
    "maxItems": MAX_TIMELINE,
    "items": closed({"after": DURATION, "ingest": COUNT}, "after", "ingest"),
}


def section_schema(own: Mapping[str, Any]) -> dict[str, Any]:
    """The schema of one API's section: its ``own`` properties plus the shared ones."""
    return closed({**own, "timeline": _TIMELINE, "fault": _FAULT, "expect": _EXPECT})


def top_up(amount: int, at: datetime) -> tuple[Ingest, ...]:
    """One ingest of ``amount`` at ``at``, or none for nothing."""
    return (Ingest(at, amount),) if amount > 0 else ()
