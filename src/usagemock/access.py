"""Who may see what: bearer tokens, the org each belongs to, and the org ids each may read.

With no fixtures file every token works: in an API whose requests name no org it stands for an
org of its own, and in one whose paths name the org it may read any org id. A fixtures file
names tokens on purpose, so 401, 400 and 403 can be exercised: any token it does not name is
rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from usagemock.yamlfile import load_checked

ANY_ORG = "*"


@dataclass(frozen=True)
class Principal:
    """What a valid token stands for."""

    token: str
    org_id: str | None
    """The org a fixtures file gives the token; None when it has none, or in open mode."""
    org_from_token: bool
    """Open mode: the token's org is derived from the token itself, deterministically."""
    readable: frozenset[str] | None
    """Org ids the token may read where a request names the org; None means any."""
    scenario: str | None = None
    """The scenario the fixtures file starts this token's orgs in, if any."""

    def may_read(self, org_id: str) -> bool:
        """Whether this token may read org ``org_id`` (named in a request's path)."""
        return self.readable is None or org_id in self.readable


@dataclass(frozen=True)
class AccessPolicy:
    """Maps tokens to principals; ``tokens`` None means open mode (any token is valid)."""

    tokens: Mapping[str, Principal] | None = None
    org_names: Mapping[str, str] | None = None
    org_scenarios: Mapping[str, str] | None = None

    def authenticate(self, token: str) -> Principal | None:
        """The principal behind ``token``, or None when the token is not valid."""
        if self.tokens is None:
            return Principal(token=token, org_id=None, org_from_token=True, readable=None)
        return self.tokens.get(token)

    def org_settings(self) -> dict[str, tuple[str | None, str | None]]:
        """(name, first scenario) of each org the fixtures file describes.

        An org without a scenario of its own starts in that of the first token it belongs to.
        """
        by_token: dict[str, str] = {}
        for principal in (self.tokens or {}).values():
            if principal.org_id is not None and principal.scenario:
                by_token.setdefault(principal.org_id, principal.scenario)
        names, scenarios = self.org_names or {}, self.org_scenarios or {}
        return {
            org: (names.get(org), scenarios.get(org) or by_token.get(org))
            for org in {*names, *scenarios, *by_token}
        }

    def scenario_names(self) -> set[str]:
        """Every scenario the fixtures file names (to check they exist)."""
        named = {p.scenario for p in (self.tokens or {}).values() if p.scenario}
        return named | set((self.org_scenarios or {}).values())


OPEN = AccessPolicy()

_TOKEN_ENTRY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "org": {
            "type": ["string", "null"],
            "minLength": 1,
            "description": "the org the token belongs to; null: a token without an org",
        },
        "scenario": {
            "type": "string",
            "minLength": 1,
            "description": "the scenario this token's orgs start in",
        },
        "can_read": {
            "description": "org ids the token may read (in APIs whose paths name the org), "
            "or '*' for all",
            "oneOf": [
                {"const": ANY_ORG},
                {"type": "array", "items": {"type": "string", "minLength": 1}},
            ],
        },
    },
}
FIXTURES_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tokens"],
    "properties": {
        "tokens": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": r"^\S+$"},
            "additionalProperties": _TOKEN_ENTRY,
        },
        "orgs": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "scenario": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}


def load_access(path: Path) -> AccessPolicy:
    """Read a fixtures file (see fixtures/access.yaml) into an access policy."""
    data = load_checked(path, FIXTURES_SCHEMA)
    tokens = {}
    for token, entry in data["tokens"].items():
        entry = entry or {}
        org = entry.get("org")
        can_read = entry.get("can_read", [org] if org else [])
        readable = None if can_read == ANY_ORG else frozenset(can_read)
        tokens[str(token)] = Principal(
            str(token), org, org_from_token=False, readable=readable, scenario=entry.get("scenario")
        )
    orgs = {org: spec or {} for org, spec in (data.get("orgs") or {}).items()}
    return AccessPolicy(
        tokens=tokens,
        org_names={org: spec["name"] for org, spec in orgs.items() if "name" in spec},
        org_scenarios={org: spec["scenario"] for org, spec in orgs.items() if "scenario" in spec},
    )
