"""The one YAML reader (specs, fixtures, scenarios): a file it cannot use is one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from usagemock.access import load_access
from usagemock.errors import UsageMockError
from usagemock.scenarios import load_scenarios
from usagemock.specs import lint, load_document
from usagemock.testing import free_port
from usagemock.yamlfile import MAX_BYTES, MAX_DEPTH, MAX_SPEC_BYTES

SELF_REFERENCE = "tokens: &a\n  t1: *a\n"
BAD_FILES = {
    "not_utf8": (b"tokens:\n  t\xe9: {org: org_a}\n", "not UTF-8 text (byte 11 is 0xe9)"),
    "self_reference": (
        SELF_REFERENCE.encode(),
        ":1:9: the value anchored here (&name) is used again",
    ),
    "billion_laughs": (
        b"a: &a [x, x, x, x, x, x, x, x, x]\n"
        + b"".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}]\n".encode()
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + b"tokens: *i\n",
        "used again through an alias (*name)",
    ),
    "duplicate_key": (
        b"tokens:\n  t1: {org: org_a}\n  t1: {org: org_b}\n",
        ":3:3: the key 't1' is given twice (first on line 2); keep one",
    ),
    "duplicate_key_on_one_line": (
        b'{"tokens": {"t1": {"org": "org_a"}, "t1": {"org": "org_b"}}}\n',
        ":1:37: the key 't1' is given twice (first on line 1); keep one",
    ),
    "nan": (
        b"description: x\nkenbun:\n  usage: {share_of_limit: .nan}\n",
        ":3:27: .nan is not a finite number",
    ),
    "inf": (
        b"description: x\nkenbun:\n  usage: {share_of_limit: .inf}\n",
        ":3:27: .inf is not a finite number",
    ),
    "empty": (b"# nothing but a comment\n", ": the file is empty (or holds only comments)"),
}
#: What the spec loader says instead: it takes aliases, but not one that makes a value contain
#: itself or a document that grows past what it reads once they are written out.
SPEC_SAYS = {
    "self_reference": ":1:9: this value contains itself through an alias (*name); write it out",
    "billion_laughs": "its aliases (*name) make this document more than 2,000,000 values",
    "empty": "an OpenAPI document must be a mapping at the top level",
}
TOO_BIG = {
    "fixtures": (b"#" * (MAX_BYTES + 1), "larger than 256 KiB, the most usagemock reads"),
    "scenarios": (b"#" * (MAX_BYTES + 1), "larger than 256 KiB, the most usagemock reads"),
    "spec": (b"#" * (MAX_SPEC_BYTES + 1), "larger than 8192 KiB, the most usagemock reads"),
}

LOADERS: dict[str, Callable[[Path], Any]] = {
    "fixtures": load_access,
    "scenarios": lambda path: load_scenarios(path.parent),
    "spec": load_document,
}


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("case", [*sorted(BAD_FILES), "too_big"])
def test_a_file_the_reader_cannot_use_is_one_line_naming_file_and_reason(
    tmp_path: Path, loader: str, case: str
) -> None:
    """Non-UTF-8, aliases, duplicate keys, .nan/.inf and oversize files: one line, no traceback."""
    content, says = TOO_BIG[loader] if case == "too_big" else BAD_FILES[case]
    if loader == "spec":
        says = SPEC_SAYS.get(case, says)
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    started = time.monotonic()
    with pytest.raises(UsageMockError) as caught:
        LOADERS[loader](path)
    assert time.monotonic() - started < 1.0
    message = str(caught.value)
    assert message.startswith(str(path)) and says in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("lint", "{path}"), SPEC_SAYS["self_reference"]),
        (("serve", "--port", "{port}", "--fixtures", "{path}"), "used again through an alias"),
        (("serve", "--port", "{port}", "--scenarios", "{dir}"), "used again through an alias"),
    ],
)
def test_the_cli_says_one_line_and_exits_2_for_an_unreadable_file(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    """``lint``, ``serve --fixtures`` and ``serve --scenarios`` exit 2 with one line on stderr."""
    path = tmp_path / "bad.yaml"
    path.write_text(SELF_REFERENCE)
    # a free port: a serve that got past the file would not fail on a port the machine uses
    argv = [a.format(path=path, dir=tmp_path, port=free_port()) for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "usagemock", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr


ANCHORED_SPEC = """\
openapi: 3.1.0
info: {title: Anchored, version: '1'}
paths:
  /a:
    get:
      responses:
        '200': &ok
          description: OK
          content:
            application/json:
              schema: {type: object, properties: {n: {type: integer}}}
  /b:
    get:
      responses:
        '200': *ok
        '404':
          <<: *ok
          description: Not found
"""


def test_a_spec_with_anchors_aliases_and_merge_keys_loads_as_if_written_out(
    tmp_path: Path,
) -> None:
    """OpenAPI files in the wild share parts through aliases: each place gets its own copy."""
    path = tmp_path / "anchored.yaml"
    path.write_text(ANCHORED_SPEC)
    document = load_document(path)
    assert lint(document) == []
    first = document["paths"]["/a"]["get"]["responses"]["200"]
    again = document["paths"]["/b"]["get"]["responses"]["200"]
    merged = document["paths"]["/b"]["get"]["responses"]["404"]
    assert first == again and merged == {**first, "description": "Not found"}
    assert first is not again and first["content"] is not merged["content"]
    again["content"]["application/json"]["schema"]["type"] = "array"
    assert first["content"]["application/json"]["schema"]["type"] == "object"


@pytest.mark.parametrize("loader", ["fixtures", "scenarios"])
def test_fixtures_and_scenario_files_still_refuse_an_alias_used_once(
    tmp_path: Path, loader: str
) -> None:
    """Files written for usagemock take no alias at all, even a harmless one."""
    path = tmp_path / "bad.yaml"
    path.write_text("description: &d x\nkenbun: {usage: {share_of_limit: 0.5}}\nnote: *d\n")
    with pytest.raises(UsageMockError, match="used again through an alias"):
        LOADERS[loader](path)


def test_a_spec_nested_as_deep_as_yaml_allows_loads_with_its_aliases(tmp_path: Path) -> None:
    """The alias checks and copies walk with their own stack: no recursion limit to hit."""
    depth = 990  # PyYAML refuses deeper nesting itself, as not valid YAML
    path = tmp_path / "deep.yaml"
    path.write_text(f"a: &deep {'[' * depth}{']' * depth}\nb: *deep\n")
    document = load_document(path)
    first, again = document["a"], document["b"]
    for _ in range(depth - 1):
        assert first is not again and len(first) == len(again) == 1
        first, again = first[0], again[0]
    assert first == again == []


@pytest.mark.parametrize("loader", ["fixtures", "scenarios"])
def test_a_file_nested_past_the_depth_limit_is_one_line_not_a_traceback(
    tmp_path: Path, loader: str
) -> None:
    """Nesting as deep as YAML allows would overflow the schema check's messages: refused first."""
    path = tmp_path / "deep.yaml"
    path.write_text(f"description: x\nkenbun: {'[' * 900}{']' * 900}\n")
    with pytest.raises(UsageMockError) as caught:
        LOADERS[loader](path)
    message = str(caught.value)
    assert f"{path}:2:40: nested more than {MAX_DEPTH} levels deep" in message, message
    assert "\n" not in message


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text("abcxyz", min_size=1, max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


def _containers(value: Any) -> list[Any]:
    """Every mapping and list in ``value``, each place it stands (shared ones more than once)."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            found.append(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found


@settings(max_examples=60, deadline=None)
@given(shared=_VALUES, others=st.lists(_VALUES, max_size=3), uses=st.integers(2, 4))
def test_a_spec_sharing_values_through_aliases_loads_equal_with_nothing_shared(
    tmp_path_factory: pytest.TempPathFactory, shared: Any, others: list[Any], uses: int
) -> None:
    """PyYAML writes a value used in several places once, with aliases: it loads as written out."""
    document = {"openapi": "3.1.0", "x-parts": [shared] * uses + others, "x-again": shared}
    path = tmp_path_factory.mktemp("aliases") / "spec.yaml"
    path.write_text(yaml.safe_dump(document))
    loaded = load_document(path)
    assert loaded == document
    containers = _containers(loaded)
    assert len({id(container) for container in containers}) == len(containers)
