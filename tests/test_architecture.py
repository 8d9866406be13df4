"""The layers in ARCHITECTURE.md hold: each package imports only what its layer allows.

And each API stays in its definition: no module outside ``usagemock/apis/`` names one.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

import usagemock

SRC = Path(usagemock.__file__).parent

# module prefix -> usagemock modules it may import (ARCHITECTURE.md, "Layers")
ALLOWED = {
    "usagemock.domain": {"usagemock.domain"},
    "usagemock.testing": set(),  # the pytest plugin loads it on every run: standard library only
    "usagemock.ownapis": {"usagemock.apis"},  # the same, and the registry imported lazily
    "usagemock.rules": {"usagemock.rules"},
    "usagemock.errors": set(),
    "usagemock.error_bodies": set(),
    "usagemock.endless": set(),
    # an API's kit half (the registry, ApiFacts, each API's facts and rules): what the kit may
    # load without the mock (see _layer)
    "api facts": {"usagemock.apis", "usagemock.rules", "usagemock.specs", "usagemock.errors"},
    # an API's mock half: its accounts, JSON, scenario sections and error body
    "api definitions": {
        "usagemock.apis",
        "usagemock.domain",
        "usagemock.rules",
        "usagemock.specs",
        "usagemock.errors",
        "usagemock.error_bodies",
    },
    "usagemock.yamlfile": {"usagemock.errors"},
    "usagemock.specs": {"usagemock.errors", "usagemock.yamlfile"},
    "usagemock.access": {"usagemock.yamlfile", "usagemock.errors"},
    "usagemock.settings": {
        "usagemock.errors",
        "usagemock.specs",
        "usagemock.yamlfile",
        "usagemock.domain",  # the calendar --now must be in
        "usagemock.apis",  # the registered APIs' names (--api)
    },
    # the contract kit depends on the specs, the rules, the APIs' facts and schemathesis, never
    # on the mock (test_the_kit_loads_without_the_mock checks what it loads)
    "usagemock.kit": {
        "usagemock.kit",
        "usagemock.apis",
        "usagemock.rules",
        "usagemock.specs",
        "usagemock.errors",
    },
    # state: storage and scenarios sit on the domain and the API definitions; the engine
    # composes them
    "usagemock.stored": {"usagemock.domain", "usagemock.apis"},
    "usagemock.store": {
        "usagemock.domain",
        "usagemock.stored",
        "usagemock.errors",
        "usagemock.postgres",  # imported lazily: psycopg is the postgres extra's
    },
    "usagemock.postgres": {
        "usagemock.domain",
        "usagemock.stored",
        "usagemock.errors",
        "usagemock.store",
    },
    "usagemock.scenarios": {
        "usagemock.domain",
        "usagemock.apis",
        "usagemock.errors",
        "usagemock.yamlfile",
    },
    "usagemock.readcache": {"usagemock.domain", "usagemock.store"},
    "usagemock.engine": {
        "usagemock.domain",
        "usagemock.apis",
        "usagemock.store",
        "usagemock.readcache",
        "usagemock.scenarios",
        "usagemock.errors",
    },
    "usagemock.web": {
        "usagemock.web",
        "usagemock.apis",
        "usagemock.rules",
        "usagemock.engine",
        "usagemock.scenarios",
        "usagemock.store",
        "usagemock.domain",
        "usagemock.access",
        "usagemock.settings",
        "usagemock.specs",
        "usagemock.errors",
        "usagemock.error_bodies",
        "usagemock.endless",
    },
}
# The kit half of usagemock.apis: the registry, ApiFacts, each API package's (docstring-only)
# __init__ and its facts and rules modules; the rest is the mock half.
KIT_HALF = ("usagemock.apis", "usagemock.apis.api_facts")
KIT_HALF_NAMES = ("facts", "rules")
THIRD_PARTY_WEB = ("connexion", "starlette", "uvicorn", "httpx")


def _imports(path: Path) -> set[str]:
    """What ``path`` imports when it runs (an ``if TYPE_CHECKING:`` block loads nothing)."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    names = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(SRC.rglob("*.py"))


def _layer(module: str) -> str | None:
    """The key of ``module``'s layer in ALLOWED (None: the CLI and the package root)."""
    if module.startswith("usagemock.apis"):
        parts = module.split(".")
        package = len(parts) == 3 and (SRC / "apis" / parts[2]).is_dir()
        kit_half = module in KIT_HALF or package or parts[-1] in KIT_HALF_NAMES
        return "api facts" if kit_half else "api definitions"
    return next((prefix for prefix in ALLOWED if module.startswith(prefix)), None)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module(p))
def test_module_imports_only_its_layer(path: Path) -> None:
    """A module imports usagemock code only from the layers ARCHITECTURE.md allows it."""
    module = _module(path)
    layer = _layer(module)
    if layer is None:  # the CLI and the package root sit on top and may import anything
        return
    ours = {name for name in _imports(path) if name.startswith("usagemock.")}
    forbidden = {
        name for name in ours if not any(name.startswith(allowed) for allowed in ALLOWED[layer])
    }
    if layer == "api facts":  # within usagemock.apis, only the kit half
        forbidden |= {name for name in ours if _layer(name) == "api definitions"}
    assert not forbidden, f"{module} may not import {sorted(forbidden)}"


@pytest.mark.parametrize("path", sorted((SRC / "domain").rglob("*.py")), ids=lambda p: p.stem)
def test_domain_has_no_web_code(path: Path) -> None:
    """The domain is plain Python: no web framework, server or HTTP client."""
    assert not {n for n in _imports(path) if n.split(".")[0] in THIRD_PARTY_WEB}


def test_the_kit_loads_without_the_mock() -> None:
    """Importing the kit and every API's facts loads no domain, state, engine or web module."""
    script = (
        "import sys, usagemock.kit\n"
        "from usagemock.apis import facts, names\n"
        "[facts(api).document() for api in names()]\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('usagemock.'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = result.stdout.split()
    mock = [m for m in loaded if _layer(m) not in ("api facts", *KIT_LAYERS)]
    assert "usagemock.kit" in loaded and not mock, f"the kit loaded the mock's {mock}"


KIT_LAYERS = ("usagemock.kit", "usagemock.rules", "usagemock.specs", "usagemock.errors")
KIT_LAYERS += ("usagemock.yamlfile",)  # specs reads YAML with it

#: The APIs usagemock ships; no module outside their definitions may name one.
BUNDLED_APIS = re.compile(r"timbal|kenbun", re.IGNORECASE)
DEFINITIONS = SRC / "apis"


def api_names_in(source: str) -> list[str]:
    """Each name, string (docstrings too) or comment in ``source`` that names a bundled API."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.NAME, tokenize.STRING, tokenize.COMMENT) and (
            BUNDLED_APIS.search(token.string)
        ):
            found.append(f"line {token.start[0]}: {token.string.strip()[:60]}")
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if DEFINITIONS not in p.parents],
    ids=lambda p: _module(p),
)
def test_no_module_outside_the_definitions_names_an_api(path: Path) -> None:
    """Only ``usagemock/apis/`` may name an API: everything else asks the registry."""
    found = api_names_in(path.read_text())
    assert not found, f"{_module(path)} names an API (ask usagemock.apis instead): {found}"


def test_the_guard_sees_a_name_a_string_and_a_comment() -> None:
    """The guard above would catch each way a module could name an API."""
    source = 'from x import kenbun\nAPI = "Timbal"  # pick timbal\n'
    assert [line.split(":")[0] for line in api_names_in(source)] == ["line 1", "line 2", "line 2"]
