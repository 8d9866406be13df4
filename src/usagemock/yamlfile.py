"""Load a user's YAML file against a JSON Schema, with errors that name the file, line and field."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from usagemock.errors import FixtureError, UsageMockError

# libyaml's loader parses several times faster than the pure-Python one (start-up reads ~30
# files); PyYAML's wheels include it, a source build may not.
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Largest fixtures or scenario file (our choice): the bundled ones are about 1 KB, and a file
#: this size takes about 2 s to parse and check on a 2-core machine (start-up time grows with
#: it), so a bigger one is refused before it is parsed.
MAX_BYTES = 256 * 1024
#: Deepest nesting of a fixtures or scenario file (our choice): theirs is five or six levels,
#: and a much deeper one would overflow the recursion of the schema check's error messages.
MAX_DEPTH = 32
#: Largest OpenAPI document (our choice): the biggest public specs (Stripe's, ~6 MB) fit.
MAX_SPEC_BYTES = 8 * 1024 * 1024
#: Most values (mappings, lists, scalars, keys) an OpenAPI document may hold once its aliases are
#: written out (our choice): the biggest public specs hold a few hundred thousand, and an alias
#: bomb (each level repeating the one before) passes it long before memory runs short.
MAX_SPEC_VALUES = 2_000_000


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML that a usagemock file must not use (it says what instead)."""


class _StrictLoader(_BASE):  # type: ignore[misc,valid-type]
    """A safe loader that refuses aliases, duplicate keys and non-finite numbers.

    An alias (``*name``) can make a value contain itself or grow exponentially ("billion
    laughs"); a duplicate key silently drops the first value; ``.nan`` and ``.inf`` are no count,
    share or rate. Each is refused with its line. Fixtures and scenario files are small and
    written for usagemock, so an alias there saves little and only opens that door: refused.
    """

    takes_aliases = False

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Construct ``node``; a node met a second time is an alias, refused."""
        met = node in self.constructed_objects or node in self.recursive_objects
        if met and not self.takes_aliases:
            raise _Refused(
                problem="the value anchored here (&name) is used again through an alias "
                "(*name); usagemock files take no aliases, write the value out",
                problem_mark=node.start_mark,
            )
        return super().construct_object(node, deep)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        """Construct a mapping, refusing a key given twice."""
        first: dict[tuple[str, str], yaml.Node] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                # compared by node, not by line: a JSON object often has every key on one line
                seen = first.setdefault((key.tag, key.value), key)
                if seen is not key:
                    raise _Refused(
                        problem=f"the key {key.value!r} is given twice "
                        f"(first on line {seen.start_mark.line + 1}); keep one",
                        problem_mark=key.start_mark,
                    )
        return super().construct_mapping(node, deep)

    def construct_finite_float(self, node: yaml.ScalarNode) -> float:
        """A float, refusing ``.nan`` and ``.inf``."""
        number: float = self.construct_yaml_float(node)
        if not math.isfinite(number):
            raise _Refused(
                problem=f"{node.value} is not a finite number; use a plain number",
                problem_mark=node.start_mark,
            )
        return number


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_finite_float)


class _SpecLoader(_StrictLoader):
    """The strict loader, but taking aliases: OpenAPI documents in the wild use them.

    Anchors and merge keys (``<<: *defaults``) are how many published specs share responses
    and parameters, and a user's own spec must load as its author wrote it. What made aliases
    dangerous is refused before anything is built (:func:`_check_expansion`): a value that
    contains itself, and a document past :data:`MAX_SPEC_VALUES` once its aliases are written
    out. Each place an alias puts a value gets a copy of its own (:func:`_unshared`), as if
    written out, so no change to one place shows in another.
    """

    takes_aliases = True


# The walks below keep their own stacks: a document may nest as deep as PyYAML allows (1,000
# levels), past what Python's recursion limit leaves to a recursive walk.


def _children(node: yaml.Node) -> list[yaml.Node]:
    """The nodes right inside ``node``: a mapping's keys and values, a sequence's items."""
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root: yaml.Node, limit: int) -> bool:
    """Refuse a value containing itself through an alias, or more than ``limit`` values in all.

    Counts each node once per place it is used, remembering each node's count, so an alias bomb
    is measured in a moment without being built. Returns whether any alias was used.
    """
    counts: dict[yaml.Node, int] = {}
    open_nodes: set[yaml.Node] = set()  # counting started, not finished: the path from the root
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_counted = stack.pop()
        if children_counted:
            total = 1 + sum(counts[child] for child in _children(node))
            if total > limit:
                raise _Refused(
                    problem=f"written out, its aliases (*name) make this document more than "
                    f"{limit:,} values, more than usagemock reads; use fewer aliases",
                    problem_mark=node.start_mark,
                )
            open_nodes.discard(node)
            counts[node] = total
        elif node in open_nodes:
            raise _Refused(
                problem="this value contains itself through an alias (*name); write it out",
                problem_mark=node.start_mark,
            )
        elif node not in counts:
            open_nodes.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if child not in counts)
    return counts[root] > len(counts)  # more places than nodes: some node stands in two


def _check_depth(root: yaml.Node, limit: int) -> None:
    """Refuse a value nested more than ``limit`` levels deep (in a tree: no alias is left)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise _Refused(
                problem=f"nested more than {limit} levels deep, more than a usagemock file "
                "needs; flatten it",
                problem_mark=node.start_mark,
            )
        stack.extend((child, depth + 1) for child in _children(node))


def _items(container: dict[Any, Any] | list[Any]) -> Iterable[tuple[Any, Any]]:
    """(key or index, value) of each item of a mapping or list."""
    return container.items() if isinstance(container, dict) else enumerate(container)


def _unshared(root: Any) -> Any:
    """``root`` with each mapping or list that stands in a second place replaced by a copy."""
    seen = {id(root)}  # the document holds every object seen, so no id is reused meanwhile
    stack = [root] if isinstance(root, (dict, list)) else []
    while stack:
        container = stack.pop()
        for key, item in _items(container):
            if not isinstance(item, (dict, list)):
                continue  # scalars are immutable: sharing them changes nothing
            if id(item) in seen:
                container[key] = _copied(item)
            else:
                seen.add(id(item))
                stack.append(item)
    return root


def _copied(value: dict[Any, Any] | list[Any]) -> dict[Any, Any] | list[Any]:
    """``value`` with every mapping and list in it a new one."""
    top = dict(value) if isinstance(value, dict) else list(value)
    stack = [top]
    while stack:
        container = stack.pop()
        for key, item in _items(container):
            if isinstance(item, (dict, list)):
                container[key] = copy = dict(item) if isinstance(item, dict) else list(item)
                stack.append(copy)
    return top


def read_yaml(
    path: Path,
    error: type[UsageMockError],
    *,
    with_lines: bool = False,
    max_bytes: int = MAX_BYTES,
    max_values: int | None = None,
) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML (or JSON) file; raise ``error`` naming the file and line when it cannot.

    Returns the data and, with ``with_lines``, the node tree that knows each value's line.
    ``max_values`` takes aliases, up to that many values once they are written out (see
    :class:`_SpecLoader`); without it an alias is refused, and nesting past :data:`MAX_DEPTH`.
    """
    try:
        with path.open("rb") as file:
            raw = file.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror}).") from exc
    if len(raw) > max_bytes:
        raise error(
            f"{path}: larger than {max_bytes // 1024} KiB, the most usagemock reads of such a "
            "file; split it or trim it."
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}); "
            "save the file as UTF-8."
        ) from None
    loader = _StrictLoader(text) if max_values is None else _SpecLoader(text)
    try:
        node = loader.get_single_node()
        aliased = node is not None and max_values is not None and _check_expansion(node, max_values)
        data = None if node is None else loader.construct_document(node)
        if aliased:
            data = _unshared(data)
        if node is not None and max_values is None:  # aliases refused: the nodes are a tree
            _check_depth(node, MAX_DEPTH)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if isinstance(exc, _Refused):
            raise error(f"{path}{where}: {problem}.") from None
        raise error(f"{path}{where}: not valid YAML or JSON ({problem}).") from None
    finally:
        loader.dispose()
    return data, node if with_lines else None


def load_checked(path: Path, schema: Mapping[str, Any]) -> Any:
    """Parse ``path`` and validate it; raise :class:`FixtureError` listing every problem."""
    data, node = read_yaml(path, FixtureError, with_lines=True)
    if node is None:  # the schema would say "None is not of type 'object'"
        raise FixtureError(f"{path}: the file is empty (or holds only comments).")
    lines = _lines_by_path(node)
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


def _lines_by_path(root: yaml.Node) -> dict[tuple[Any, ...], int]:
    """Map each value's path (keys and indexes) to its 1-based line in the file.

    A value under a key is placed on the key's line. Walked with a stack of its own, as
    :func:`_check_expansion` is.
    """
    found: dict[tuple[Any, ...], int] = {}
    keys: dict[tuple[Any, ...], int] = {}
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, where = stack.pop()
        found[where] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                keys[(*where, key.value)] = key.start_mark.line + 1
                stack.append((value, (*where, key.value)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*where, index)) for index, item in enumerate(node.value))
    return found | keys
