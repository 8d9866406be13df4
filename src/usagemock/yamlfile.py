"""Load a user's YAML file against a JSON Schema, with errors that name the file, line and field."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from usagemock.errors import FixtureError, UsageMockError

# libyaml's loader parses several times faster than the pure-Python one (start-up reads ~30
# files); PyYAML's wheels include it, a source build may not.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(
    path: Path, error: type[UsageMockError], *, with_lines: bool = False
) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML (or JSON) file; raise ``error`` naming the file and line when it cannot.

    Returns the data and, with ``with_lines``, the node tree that knows each value's line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror}).") from exc
    try:
        node = yaml.compose(text, Loader=_LOADER) if with_lines else None
        return yaml.load(text, Loader=_LOADER), node  # _LOADER is a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path}{where}: not valid YAML or JSON ({problem}).") from exc


def load_checked(path: Path, schema: Mapping[str, Any]) -> Any:
    """Parse ``path`` and validate it; raise :class:`FixtureError` listing every problem."""
    data, node = read_yaml(path, FixtureError, with_lines=True)
    lines = _lines_by_path(node) if node is not None else {}
    errors = sorted(
        Draft202012Validator(
            schema, format_checker=Draft202012Validator.FORMAT_CHECKER
        ).iter_errors(data),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    if errors:
        problems = []
        for error in errors:
            if error.context:  # oneOf/anyOf: the branch that got furthest says what is wrong
                error = max(error.context, key=lambda e: len(e.relative_path))
            where = tuple(error.absolute_path)
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                known = error.schema.get("properties", {})
                where += tuple(key for key in error.instance if key not in known)[:1]
            field = ".".join(str(p) for p in where) or "(top level)"
            line_no = lines.get(where, lines.get(where[:-1], 1))
            problems.append(f"{path}:{line_no}: {field}: {error.message}")
        raise FixtureError("\n".join(problems))
    return data


def _lines_by_path(node: yaml.Node, where: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map each value's path (keys and indexes) to its 1-based line in the file."""
    found = {where: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.update(_lines_by_path(value, (*where, key.value)))
            found[(*where, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.update(_lines_by_path(item, (*where, index)))
    return found
