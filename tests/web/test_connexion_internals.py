"""The connexion internals the mock relies on are all in web/oas31.py, listed, and still there.

When a connexion upgrade drops one, the test named after it fails and says which and where.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import usagemock
from usagemock.web import oas31
from usagemock.web.oas31 import INTERNALS, Internal

SRC = Path(usagemock.__file__).parent
ADAPTER = Path(oas31.__file__)
#: connexion modules whose names the docs offer to applications: any module may use these.
PUBLIC = {
    "connexion",
    "connexion.context",
    "connexion.exceptions",
    "connexion.lifecycle",
    "connexion.options",
    "connexion.resolver",
    "connexion.security",
}


def _resolve(dotted: str) -> Any:
    """What ``dotted`` names: its longest importable prefix, then attributes of it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(dotted)


def _has(internal: Internal) -> bool:
    """Whether the internal is there: on the owner, or set by an ``__init__`` in its classes."""
    try:
        owner = _resolve(internal.owner)
    except (ImportError, AttributeError):
        return False
    if not internal.set_in_init:
        return hasattr(owner, internal.name)
    assignment = re.compile(rf"\bself\.{re.escape(internal.name)}\s*(:[^=]*)?=")
    return any(
        assignment.search(inspect.getsource(cls.__init__))
        for cls in inspect.getmro(owner)
        if "__init__" in vars(cls) and cls.__module__.startswith("connexion")
    )


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda internal: internal.dotted)
def test_each_internal_the_adapter_relies_on_is_still_there(internal: Internal) -> None:
    """Each pinned internal exists in the installed connexion (or starlette)."""
    package = internal.owner.split(".")[0]
    assert _has(internal), (
        f"{package} {version(package)} has no {internal.dotted}, which "
        "src/usagemock/web/oas31.py relies on (its module docstring says what for): adapt the "
        "adapter, or keep the version pinned in pyproject.toml"
    )


def test_the_adapter_lists_exactly_the_internals_it_pins() -> None:
    """The module docstring's list and ``INTERNALS`` name the same internals."""
    listed = re.findall(r"^\* ``([\w.]+)``", oas31.__doc__ or "", re.MULTILINE)
    assert sorted(listed) == sorted(internal.dotted for internal in INTERNALS)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _third_party_bases(tree: ast.Module) -> set[str]:
    """Names a module imports from connexion or starlette."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").split(".")[0] in ("connexion", "starlette")
        for alias in node.names
    }


def _leaning_on_connexion(tree: ast.Module) -> set[str]:
    """Private names a module defines in, or reads from, subclasses of connexion's classes.

    Overrides (``def _parse``), class attributes (``_accepts_kwarg = ...``) and reads such as
    ``self._schema`` or ``super()._parse``.
    """
    imported = _third_party_bases(tree)
    found: set[str] = set()
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        bases = {ast.unparse(base).split(".")[0] for base in cls.bases}
        if not bases & (imported | {"starlette"}):
            continue
        for node in ast.walk(cls):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(node.name):
                found.add(node.name)
            elif isinstance(node, ast.Assign):
                found.update(
                    t.id for t in node.targets if isinstance(t, ast.Name) and _private(t.id)
                )
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                found.add(node.attr)
    return found


def test_the_adapter_pins_every_private_name_it_uses() -> None:
    """Every private connexion name web/oas31.py overrides or reads is in ``INTERNALS``."""
    used = _leaning_on_connexion(ast.parse(ADAPTER.read_text()))
    assert used <= {internal.name for internal in INTERNALS}, (
        "web/oas31.py uses connexion internals it does not pin; add them to INTERNALS and its "
        f"docstring: {sorted(used - {internal.name for internal in INTERNALS})}"
    )


@pytest.mark.parametrize(
    "path", sorted(set(SRC.rglob("*.py")) - {ADAPTER}), ids=lambda p: str(p.relative_to(SRC))
)
def test_no_other_module_uses_connexion_internals(path: Path) -> None:
    """Outside web/oas31.py, connexion is used only through the names its docs offer."""
    tree = ast.parse(path.read_text())
    imported = {
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("connexion")
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("connexion")
    }
    assert imported <= PUBLIC, f"{path.name} imports connexion internals: {imported - PUBLIC}"
    assert not _leaning_on_connexion(tree), (
        f"{path.name} overrides or reads private names of connexion's classes "
        f"({sorted(_leaning_on_connexion(tree))}); move that into web/oas31.py and pin it there"
    )
    assert "register_url_convertor" not in path.read_text(), (
        f"{path.name} patches starlette's convertors; that belongs in web/oas31.py"
    )
