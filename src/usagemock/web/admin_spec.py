"""The admin API's spec as served: ``specs/admin.yaml`` plus each registered API's parts.

The file holds what every API shares; the ``Api`` names and one ``OrgRecord`` branch per API
(``<Name>Record``: the shared ``RecordCommon`` and the fields its definition's
``record_schema`` gives) come from the registry, so an API added with
``usagemock.apis.register`` is one the admin API manages, with no edit to the file.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from typing import Any

from usagemock.apis import definition, names
from usagemock.specs import load_bundled


def admin_document() -> dict[str, Any]:
    """``specs/admin.yaml`` with the registered APIs' names and record schemas filled in."""
    document = copy.deepcopy(dict(load_bundled("admin")))
    schemas = document["components"]["schemas"]
    apis = sorted(names())
    schemas["Api"] = {**schemas["Api"], "enum": apis}
    branches = []
    for api in apis:
        component = f"{api.capitalize()}Record"
        schemas[component] = _record(api, definition(api).record_schema)
        branches.append({"$ref": f"#/components/schemas/{component}"})
    schemas["OrgRecord"] = {"description": schemas["OrgRecord"]["description"], "oneOf": branches}
    return document


def _record(api: str, own: Any) -> dict[str, Any]:
    """One API's ``OrgRecord`` branch: the parts every record has, then its own fields."""
    return {
        "allOf": [
            {"$ref": "#/components/schemas/RecordCommon"},
            {
                "type": "object",
                "required": ["api", "org_id", *own["required"], "organic"],
                "properties": {"api": {"const": api}, **own["properties"]},
            },
        ]
    }


_MOMENT = "#/components/schemas/RecordMoment"


def record_moments() -> tuple[tuple[str, ...], ...]:
    """Every path to a ``RecordMoment`` in any registered API's ``OrgRecord``.

    The admin API checks each moment a replaced record holds against the calendar; which
    fields are moments is what the record schemas (every API's) say, so none is listed by hand.
    """
    return _record_moments(names())


@functools.cache
def _record_moments(apis: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    document = admin_document()
    schemas = document["components"]["schemas"]
    return tuple(dict.fromkeys(_moments(document, schemas["OrgRecord"], (), set())))


def _moments(
    document: Mapping[str, Any], node: Any, path: tuple[str, ...], seen: set[str]
) -> Iterator[tuple[str, ...]]:
    if not isinstance(node, Mapping):
        return
    ref = node.get("$ref")
    if ref == _MOMENT:
        yield path
    elif isinstance(ref, str) and ref not in seen:  # every ref here is local: lint checks it
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        yield from _moments(document, target, path, seen | {ref})
    for branch in (*node.get("allOf", ()), *node.get("oneOf", ()), *node.get("anyOf", ())):
        yield from _moments(document, branch, path, seen)
    for name, child in node.get("properties", {}).items():
        yield from _moments(document, child, (*path, name), seen)
