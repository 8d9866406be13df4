"""What a request asks of an API: the documented operation it addresses, and the client's bugs.

A proxy sees requests it did not make. Before their answers are judged, each request is placed
on the spec: which API (by its mount: ``""`` when one API is served at the root, ``/<api>``
when every API is, as ``usagemock serve`` lays them out), which documented path and method,
with which path parameters. A request the spec does not allow (an undocumented operation, no
bearer credential where the spec asks for one) is the client's
bug: reported apart from the server's, and its answer is not judged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from usagemock.apis import facts
from usagemock.kit.sources import (
    CLIENT_BEARER_CREDENTIAL,
    CLIENT_UNDOCUMENTED_OPERATION,
)
from usagemock.specs import documented_statuses, vendor_view

#: A path template's parameter (`{org_id}`, `{org-id}`: any name OpenAPI allows, not only a word).
PATH_PARAMETER = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True)
class Asked:
    """Where one request lands on the spec of one API."""

    api: str
    path: str
    """The request's path inside the API's mount, still percent-encoded."""
    template: str | None = None
    """The documented path it matches (``/orgs/{org_id}/billing/overage``), if any."""
    method: str = "GET"
    documented: bool = False
    """Whether the spec documents this method on this path."""
    path_parameters: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientBreak:
    """A request that breaks the spec: the check it breaks and what is wrong, in one line."""

    check: str
    message: str


@functools.cache
def _vendor_document(api: str) -> Mapping[str, Any]:
    return vendor_view(facts(api).document())


@functools.cache
def _templates(api: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each documented path of ``api`` and the pattern of the raw paths it matches."""
    found = []
    for template in _vendor_document(api)["paths"]:
        pieces = PATH_PARAMETER.split(template)
        # Odd pieces are parameter names; a parameter is one raw segment (%2F stays inside).
        regex = "".join(
            f"(?P<{_group(piece)}>[^/]+)" if i % 2 else re.escape(piece)
            for i, piece in enumerate(pieces)
        )
        found.append((template, re.compile(regex, re.DOTALL)))
    return tuple(found)


def _group(name: str) -> str:
    """A regex group name for a path parameter (any name the spec uses, made an identifier)."""
    return "p_" + "".join(ch if ch.isalnum() else f"_{ord(ch):x}_" for ch in name)


def place(mounts: Mapping[str, str], method: str, raw_path: str, query: str) -> Asked | None:
    """The API and operation a request addresses, by the API mounts (prefix -> API name).

    None when the path lies under no mount (then it is not traffic of these APIs at all).
    """
    for prefix, api in sorted(mounts.items(), key=lambda item: -len(item[0])):
        if prefix and not (raw_path == prefix or raw_path.startswith(prefix + "/")):
            continue
        inner = raw_path[len(prefix) :] or "/"
        parameters = dict(parse_qsl(query, keep_blank_values=True))
        for template, pattern in _templates(api):
            match = pattern.fullmatch(inner)
            if match is None:
                continue
            names = PATH_PARAMETER.findall(template)
            values = {name: unquote(match.group(_group(name))) for name in names}
            methods = _vendor_document(api)["paths"][template]
            return Asked(
                api=api,
                path=inner,
                template=template,
                method=method.upper(),
                documented=method.lower() in methods,
                path_parameters=values,
                query=parameters,
            )
        return Asked(api=api, path=inner, method=method.upper(), query=parameters)
    return None


def statuses(asked: Asked) -> frozenset[int]:
    """The statuses the vendor documents for the operation ``asked`` addresses (none: empty)."""
    if not asked.documented or asked.template is None:
        return frozenset()
    operation = _vendor_document(asked.api)["paths"][asked.template][asked.method.lower()]
    return documented_statuses({"paths": {asked.template: {asked.method.lower(): operation}}})


def client_breaks(asked: Asked, headers: Sequence[tuple[str, str]]) -> list[ClientBreak]:
    """Where the request breaks the vendor's spec: the client's bugs, not the server's."""
    if not asked.documented or asked.template is None:
        where = asked.template or asked.path
        return [
            ClientBreak(
                CLIENT_UNDOCUMENTED_OPERATION,
                f"{asked.method} {where} is not an operation of the {asked.api} spec",
            )
        ]
    document = _vendor_document(asked.api)
    operation = document["paths"][asked.template][asked.method.lower()]
    found = []
    security = operation.get("security", document.get("security", []))
    authorization = next((v for k, v in headers if k.lower() == "authorization"), None)
    if security and not _bearer(authorization):
        what = "no Authorization header" if authorization is None else "no Bearer credential"
        found.append(
            ClientBreak(
                CLIENT_BEARER_CREDENTIAL,
                f"the request has {what}; the spec asks for `Authorization: Bearer <token>`",
            )
        )
    return found


def _bearer(authorization: str | None) -> bool:
    scheme, _, credentials = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and bool(credentials.strip())
