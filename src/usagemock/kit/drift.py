"""Drift: ask a live server and the bundled mock the same things, and say where they differ.

The same requests go to both (:func:`probes`: the known orgs a few times, an unknown org, odd
ids, no token, a bad token), and what a frontend would notice is compared: the statuses, the
content types, the shape of error bodies, the fields of a 200 and the JSON types (null
included) each field is seen with, and values the mock never produces at all. What the mock
can produce is learnt by asking it, besides the probes, for several orgs in every scenario of
the API (``Prefer: scenario=NAME``): for a field the API's facts call a category (a plan limit,
a status: drawn from a fixed set, not measured), a live value outside what the mock gave is
one no frontend developer ever saw in the mock.

Every :class:`Difference` says whether it would mislead a frontend and what to change: a
fixtures entry, a scenario, or a spec addition to review. :mod:`usagemock.kit.driftreport`
renders the list as text, Markdown or JSON.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from usagemock.apis import facts
from usagemock.kit.samples import ODD_ORG_IDS
from usagemock.kit.targets import Target, TargetError

#: Extra tokens (each with an org of its own) the mock is asked through, to learn its values.
VARIETY = 16
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]")
#: Where each kind of difference is fixed, and how it misleads a frontend.
STATUS, CONTENT_TYPE, ERROR_BODY, FIELDS, TYPES, VALUES, EXTRA = (
    "status",
    "content type",
    "error body",
    "fields",
    "types",
    "values",
    "extra fields",
)
HEADINGS: Mapping[str, str] = {
    STATUS: "Statuses: the frontend would take another branch than against the mock",
    CONTENT_TYPE: "Content types: the frontend would parse the body otherwise",
    ERROR_BODY: "Error bodies: the frontend would read other fields from an error",
    FIELDS: "Fields the mock sends and the live server does not",
    TYPES: "Types and nullability the mock never shows",
    VALUES: "Values the mock never produces",
    EXTRA: "Fields only the live server sends (harmless: the mock never misleads about them)",
}


@dataclass(frozen=True)
class Probe:
    """One request both servers get: what it is, its path below the base URL, its headers."""

    name: str
    path: str
    headers: Mapping[str, str]
    known: bool = False
    """Whether it asks the token for an org it owns (the answer a frontend builds on)."""


@dataclass
class Seen:
    """What one server answered to one probe, over its calls."""

    statuses: set[int] = field(default_factory=set)
    content_types: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    error_keys: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    fields: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """JSON types each field of a 200 was seen with (``null`` included)."""
    values: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    bodies: int = 0


@dataclass(frozen=True)
class Difference:
    """One way the live server differs from the mock, and what to change about it."""

    group: str
    where: str
    live: str
    mock: str
    misleads: bool
    fix: str


@dataclass(frozen=True)
class Drift:
    """The whole comparison: every difference, and the counts it rests on."""

    api: str
    live: str
    differences: tuple[Difference, ...]
    probes: int
    mock_answers: int

    @property
    def misleading(self) -> tuple[Difference, ...]:
        """The differences that would mislead a frontend built against the mock."""
        return tuple(d for d in self.differences if d.misleads)


def mock_fixtures(token: str, org_ids: Sequence[str]) -> dict[str, Any]:
    """The fixtures the mock must run with: the token owning the orgs, plus the variety tokens."""
    tokens: dict[str, Any] = {token: {"org": org_ids[0], "can_read": list(org_ids)}}
    for number in range(VARIETY):
        tokens[f"usagemock-drift-{number}"] = {
            "org": f"org_drift_{number}",
            "can_read": [f"org_drift_{number}"],
        }
    return {"tokens": tokens}


def probes(api: str, token: str, org_ids: Sequence[str], samples: int) -> list[Probe]:
    """The requests both servers get, for every documented GET of ``api``."""
    bearer = {"Authorization": f"Bearer {token}"}
    found = []
    org_param = facts(api).org_param
    for path, methods in facts(api).document()["paths"].items():
        if "get" not in methods:
            continue
        by_org = org_param is not None and f"{{{org_param}}}" in path

        def at(org: str, path: str = path) -> str:
            return path.replace(f"{{{org_param}}}", quote(org, safe="%"))

        own = org_ids[0]
        for org in org_ids if by_org else (own,):
            where = f"org {org}" if by_org else "the token's org"
            found += [Probe(f"GET {path} for {where}", at(org), bearer, True)] * samples
        found.append(Probe(f"GET {path} without a token", at(own), {}))
        found.append(
            Probe(f"GET {path} with a bad token", at(own), {"Authorization": "Bearer not-a-token"})
        )
        if by_org:
            found.append(
                Probe(f"GET {path} for an unknown org", at("org_usagemock_unknown"), bearer)
            )
            found += [
                Probe(f"GET {path} for odd id {odd[:24]!r}", at(odd), bearer) for odd in ODD_ORG_IDS
            ]
    return found


def range_probes(api: str, scenarios: Sequence[str]) -> list[Probe]:
    """What the mock is also asked, to learn its values: several orgs in every scenario."""
    found = []
    org_param = facts(api).org_param
    for path, methods in facts(api).document()["paths"].items():
        if "get" not in methods:
            continue
        for number in range(VARIETY):
            org = f"org_drift_{number}"
            headers = {"Authorization": f"Bearer usagemock-drift-{number}"}
            url = path.replace(f"{{{org_param}}}", org) if org_param else path
            found.append(Probe("range", url, headers))
            found += [
                Probe("range", url, {**headers, "Prefer": f"scenario={name}"}) for name in scenarios
            ]
    return found


async def _observe(target: Target, batch: Sequence[Probe], timeout: float) -> dict[str, Seen]:
    transport = None if target.app is None else httpx.ASGITransport(target.app)
    seen: dict[str, Seen] = defaultdict(Seen)
    async with httpx.AsyncClient(
        base_url=target.base_url, transport=transport, timeout=timeout
    ) as client:
        for probe in batch:
            try:
                response = await client.get(probe.path, headers=dict(probe.headers))
            except httpx.HTTPError as exc:
                raise TargetError(
                    f"{target.label} did not answer {probe.name} ({str(exc) or type(exc).__name__})"
                    "; check --target and that the server is up."
                ) from None
            _record(seen[probe.name], response)
    return seen


def _record(seen: Seen, response: httpx.Response) -> None:
    status = response.status_code
    seen.statuses.add(status)
    media = response.headers.get("content-type", "(none)").split(";")[0].strip().lower()
    seen.content_types[status].add(media)
    try:
        body = response.json()
    except ValueError:
        body = None
    if status >= 400:
        keys = sorted(body) if isinstance(body, dict) else [f"({_type(body)} body)"]
        seen.error_keys[status].add(", ".join(keys) or "(empty object)")
    elif status == 200 and isinstance(body, dict):
        seen.bodies += 1
        for name, value in body.items():
            seen.fields[name].add(_type(value))
            if isinstance(value, str | int | float | bool) and not _TIMESTAMP.match(str(value)):
                seen.values[name].add(json.dumps(value))


def _type(value: Any) -> str:
    return {
        type(None): "null",
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), "no JSON")


def compare(
    api: str,
    live: Target,
    mock: Target,
    *,
    token: str,
    org_ids: Sequence[str],
    scenarios: Sequence[str] = (),
    samples: int = 3,
    timeout: float = 10.0,
) -> Drift:
    """Ask ``live`` and ``mock`` the same probes and list what a frontend would notice."""
    batch = probes(api, token, org_ids, samples)
    ranged = range_probes(api, scenarios)

    async def both() -> tuple[dict[str, Seen], dict[str, Seen], dict[str, Seen]]:
        return (
            await _observe(live, batch, timeout),
            await _observe(mock, batch, timeout),
            await _observe(mock, ranged, timeout),
        )

    seen_live, seen_mock, seen_range = asyncio.run(both())
    differences = []
    for name in dict.fromkeys(probe.name for probe in batch):
        known = any(p.known for p in batch if p.name == name)
        differences += _differences(name, known, seen_live[name], seen_mock[name])
    differences += _values(api, seen_live, [*seen_mock.values(), *seen_range.values()])
    return Drift(
        api=api,
        live=live.label,
        differences=tuple(differences),
        probes=len(batch),
        mock_answers=len(batch) + len(ranged),
    )


def _differences(name: str, known: bool, live: Seen, mock: Seen) -> list[Difference]:
    found = []
    if live.statuses != mock.statuses:
        fix = (
            "a fixtures entry giving the token and org as the live server has them, or a "
            "scenario answering this status"
            if known
            else "a spec addition to review: document the status the live server answers"
        )
        found.append(
            Difference(STATUS, name, _list(live.statuses), _list(mock.statuses), True, fix)
        )
    for status in sorted(live.statuses & mock.statuses):
        live_types, mock_types = live.content_types[status], mock.content_types[status]
        if live_types != mock_types:
            found.append(
                Difference(
                    CONTENT_TYPE,
                    f"{name} ({status})",
                    _list(live_types),
                    _list(mock_types),
                    True,
                    "a spec addition to review: the response's content type",
                )
            )
        live_keys, mock_keys = live.error_keys.get(status), mock.error_keys.get(status)
        if live_keys is not None and live_keys != mock_keys:
            found.append(
                Difference(
                    ERROR_BODY,
                    f"{name} ({status})",
                    _list(live_keys),
                    _list(mock_keys or ()),
                    True,
                    "a spec addition to review: the error body's schema",
                )
            )
    if live.bodies and mock.bodies:
        for field_name in sorted(set(mock.fields) - set(live.fields)):
            found.append(
                Difference(
                    FIELDS,
                    f"{name}: {field_name}",
                    "absent",
                    _list(mock.fields[field_name]),
                    True,
                    "a spec addition to review: is the field optional?",
                )
            )
        for field_name in sorted(set(live.fields) - set(mock.fields)):
            found.append(
                Difference(
                    EXTRA,
                    f"{name}: {field_name}",
                    _list(live.fields[field_name]),
                    "absent",
                    False,
                    "a spec addition to review, if the frontend should use it",
                )
            )
        for field_name in sorted(set(live.fields) & set(mock.fields)):
            unseen = live.fields[field_name] - mock.fields[field_name]
            if unseen:
                found.append(
                    Difference(
                        TYPES,
                        f"{name}: {field_name}",
                        _list(live.fields[field_name]),
                        _list(mock.fields[field_name]),
                        True,
                        "a scenario that sends it (or a spec addition to review, if the spec "
                        "does not allow it)",
                    )
                )
    return found


def _values(api: str, live: Mapping[str, Seen], mock: Sequence[Seen]) -> list[Difference]:
    """Live values of a field ``api`` calls a category, outside those the mock produced."""
    categories = facts(api).categories
    produced: dict[str, set[str]] = defaultdict(set)
    for seen in mock:
        for name, values in seen.values.items():
            if name in categories:
                produced[name] |= values
    found = []
    for name in sorted(produced):
        values = produced[name]
        types = {_type(json.loads(value)) for value in values}
        outside = sorted(
            value
            for value in {v for seen in live.values() for v in seen.values.get(name, ())} - values
            if _type(json.loads(value)) in types  # another type is the types check's to report
        )
        if outside:
            found.append(
                Difference(
                    VALUES,
                    name,
                    ", ".join(outside),
                    ", ".join(sorted(values)),
                    True,
                    "a scenario (or a fixtures entry) that produces it",
                )
            )
    return found


def _list(items: Any) -> str:
    return ", ".join(str(item) for item in sorted(items)) or "(none)"
