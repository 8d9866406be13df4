"""The layers in ARCHITECTURE.md hold: each package imports only what its layer allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import usagemock

SRC = Path(usagemock.__file__).parent

# module prefix -> usagemock modules it may import (ARCHITECTURE.md, "Layers")
ALLOWED = {
    "usagemock.domain": {"usagemock.domain"},
    "usagemock.rules": {"usagemock.rules"},
    "usagemock.errors": set(),
    "usagemock.yamlfile": {"usagemock.errors"},
    "usagemock.specs": {"usagemock.errors", "usagemock.yamlfile"},
    "usagemock.access": {"usagemock.yamlfile", "usagemock.errors"},
    "usagemock.settings": {
        "usagemock.errors",
        "usagemock.specs",
        "usagemock.yamlfile",
        "usagemock.domain",  # the calendar --now must be in
    },
    # the contract kit depends on the specs, the rules and schemathesis, never on the mock
    "usagemock.kit": {"usagemock.kit", "usagemock.rules", "usagemock.specs", "usagemock.errors"},
    # state: storage and scenarios sit on the domain; the engine composes them
    "usagemock.store": {"usagemock.domain", "usagemock.errors"},
    "usagemock.scenarios": {"usagemock.domain", "usagemock.errors", "usagemock.yamlfile"},
    "usagemock.readcache": {"usagemock.domain", "usagemock.store"},
    "usagemock.engine": {
        "usagemock.domain",
        "usagemock.store",
        "usagemock.readcache",
        "usagemock.scenarios",
        "usagemock.errors",
    },
    "usagemock.web": {
        "usagemock.web",
        "usagemock.rules",
        "usagemock.engine",
        "usagemock.scenarios",
        "usagemock.store",
        "usagemock.domain",
        "usagemock.access",
        "usagemock.settings",
        "usagemock.specs",
        "usagemock.errors",
    },
}
THIRD_PARTY_WEB = ("connexion", "starlette", "uvicorn", "httpx")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module(p))
def test_module_imports_only_its_layer(path: Path) -> None:
    """A module imports usagemock code only from the layers ARCHITECTURE.md allows it."""
    module = _module(path)
    layer = next((prefix for prefix in ALLOWED if module.startswith(prefix)), None)
    if layer is None:  # the CLI and the package root sit on top and may import anything
        return
    ours = {name for name in _imports(path) if name.startswith("usagemock.")}
    forbidden = {
        name for name in ours if not any(name.startswith(allowed) for allowed in ALLOWED[layer])
    }
    assert not forbidden, f"{module} may not import {sorted(forbidden)}"


@pytest.mark.parametrize("path", sorted((SRC / "domain").rglob("*.py")), ids=lambda p: p.stem)
def test_domain_has_no_web_code(path: Path) -> None:
    """The domain is plain Python: no web framework, server or HTTP client."""
    assert not {n for n in _imports(path) if n.split(".")[0] in THIRD_PARTY_WEB}
