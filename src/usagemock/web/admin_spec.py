"""The admin API's spec as served: ``specs/admin.yaml`` plus each registered API's parts.

The file holds what every API shares; the ``Api`` names and one ``OrgRecord`` branch per API
(``<Name>Record``: the shared ``RecordCommon`` and the fields its definition's
``record_schema`` gives) come from the registry, so an API added with
``usagemock.apis.register`` is one the admin API manages, with no edit to the file.
"""

from __future__ import annotations

import copy
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
