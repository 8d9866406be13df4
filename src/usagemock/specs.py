"""The bundled OpenAPI documents: where they live, how to load them, how to lint any document."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import referencing.exceptions
from jsonschema import Draft202012Validator

from usagemock.errors import SpecError
from usagemock.yamlfile import MAX_SPEC_BYTES, MAX_SPEC_VALUES, read_yaml

#: The header in which the mock states, on every response, whether any token works (``open``)
#: or only a fixtures file's (``fixtures``). No vendor documents it; the kit reads it to tell
#: the mock's open mode, where accepting any token is by design, from an auth bug.
AUTH_MODE_HEADER = "X-Usagemock-Auth"
#: The environment variable the kit reads the bearer token from (``usagemock test``, the pytest
#: plugin), and writes in its curl and rerun lines where the token was, so they replay exactly.
TOKEN_VARIABLE = "USAGEMOCK_TOKEN"


def spec_path(name: str) -> Path:
    """Return the path of a bundled spec: ``specs/<name>.yaml`` (an API's, or ``admin``)."""
    source_tree = Path(__file__).resolve().parents[2] / "specs" / f"{name}.yaml"
    if source_tree.is_file():  # a checkout (editable install) reads the repository's specs/
        return source_tree
    bundled = resources.files("usagemock") / "specs" / f"{name}.yaml"
    if bundled.is_file():  # an installed wheel carries them inside the package
        return Path(str(bundled))
    raise SpecError(f"No bundled spec named {name!r}: there is no specs/{name}.yaml.")


def load_document(path: Path) -> dict[str, Any]:
    """Read a YAML or JSON OpenAPI document, with an error naming the file when it cannot."""
    # Aliases taken: published specs share parts with anchors (see yamlfile._SpecLoader).
    document, _ = read_yaml(path, SpecError, max_bytes=MAX_SPEC_BYTES, max_values=MAX_SPEC_VALUES)
    if not isinstance(document, dict):
        raise SpecError(f"{path}: an OpenAPI document must be a mapping at the top level.")
    return document


@functools.cache
def load_cached(path: Path) -> Mapping[str, Any]:
    """Load the document at ``path`` once per process (callers must not mutate it)."""
    return load_document(path)


def load_bundled(name: str) -> Mapping[str, Any]:
    """Load a bundled spec once per process (callers must not mutate it)."""
    return load_cached(spec_path(name))


@dataclass(frozen=True)
class Problem:
    """One reason a document is not valid OpenAPI 3.1, located by a JSON pointer."""

    pointer: str
    message: str

    def __str__(self) -> str:
        """Render as ``#/pointer: message``."""
        return f"#{self.pointer}: {self.message}"


def lint(document: Mapping[str, Any]) -> list[Problem]:
    """Return every problem that makes ``document`` invalid OpenAPI 3.1 (empty when valid)."""
    # Imported here: it costs 0.3 s and 28 MiB, which `usagemock serve` need not pay for the
    # bundled specs (the test suite lints them).
    from jsonschema_path import SchemaPath
    from openapi_spec_validator import OpenAPIV31SpecValidator

    version = document.get("openapi")
    if not (isinstance(version, str) and version.startswith("3.1.")):
        return [Problem("/openapi", f"expected an OpenAPI 3.1.x document, found {version!r}")]
    problems = list(_reference_problems(document))
    if problems:  # openapi-spec-validator raises instead of reporting a dangling $ref
        return problems
    problems = list(_schema_object_problems(document))
    seen = {p.message for p in problems}
    nodes = _pointers_by_identity(document)
    # Every retrieval refused, not only the $refs seen above: a $dynamicRef, or a $ref under a
    # schema's $id, resolves against a URI too, and linting must not read files or the network.
    path = SchemaPath.from_dict(document, handlers=_NO_RETRIEVAL)
    try:
        errors = list(OpenAPIV31SpecValidator(path).iter_errors())
    except referencing.exceptions.Unresolvable as exc:
        return [*problems, Problem("", _outside(exc.ref))]
    for error in errors:
        message = error.message.splitlines()[0]
        if message in seen:  # the same schema error, already reported with its full location
            continue
        seen.add(message)
        if error.absolute_path:
            pointer = _pointer(error.absolute_path)
        else:
            pointer = nodes.get(id(error.instance), "")
        problems.append(Problem(pointer, message))
    return problems


_SCHEMA_METASCHEMA = Draft202012Validator(Draft202012Validator.META_SCHEMA)


def _outside(ref: str) -> str:
    return (
        f"{ref!r} points outside this document; usagemock lints self-contained documents "
        "only (bundle it into one file first)"
    )


def _refuse_retrieval(uri: str) -> Any:
    raise SpecError(_outside(uri))


class _NoRetrieval(Mapping[str, Any]):
    """jsonschema-path resolver handlers that refuse every URI, whatever its scheme."""

    # Its SchemaRetriever falls back to urllib for a scheme without a handler, so this claims
    # every scheme (``in`` is always true) and maps each to a refusal.
    def __getitem__(self, scheme: str) -> Any:
        return _refuse_retrieval

    def __contains__(self, scheme: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


_NO_RETRIEVAL = _NoRetrieval()


def _reference_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    """Yield each ``$ref`` that points outside the document or, if local, at nothing in it."""
    for pointer, node in _mappings(document, ""):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            yield Problem(f"{pointer}/$ref", _outside(ref))
        elif isinstance(ref, str) and not _resolves(document, ref[1:]):
            yield Problem(f"{pointer}/$ref", f"{ref!r} points at nothing in this document")


def _resolves(document: Any, pointer: str) -> bool:
    node = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def _schema_object_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    """Check every Schema Object against the JSON Schema 2020-12 meta-schema, where it stands."""
    for pointer, schema in _schema_objects(document, ""):
        for error in _SCHEMA_METASCHEMA.iter_errors(schema):
            yield Problem(pointer + _pointer(error.absolute_path), error.message)


def _schema_objects(node: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    """Yield (pointer, schema) for each Schema Object: a ``schema`` value or a component schema."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            child = f"{pointer}/{_escape(str(key))}"
            if key == "schema" or pointer == "/components/schemas":
                yield child, value
            else:
                yield from _schema_objects(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schema_objects(value, f"{pointer}/{index}")


def _pointers_by_identity(node: Any, pointer: str = "") -> dict[int, str]:
    """Map id() of each mapping and list in the document to its JSON pointer."""
    found = {id(node): pointer}
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, (Mapping, list)):
                found.update(_pointers_by_identity(value, f"{pointer}/{_escape(str(key))}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, (Mapping, list)):
                found.update(_pointers_by_identity(value, f"{pointer}/{index}"))
    return found


def _pointer(parts: Any) -> str:
    return "".join(f"/{_escape(str(part))}" for part in parts)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def documented_statuses(document: Mapping[str, Any]) -> frozenset[int]:
    """Every numeric response status the document's operations declare."""
    return frozenset(
        int(status)
        for item in document.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, Mapping)
        for status in operation.get("responses", {})
        if str(status).isdigit()
    )


def declared_operations(document: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """Every operation the document declares: its operationId (None: it has none) and path."""
    return [
        (operation.get("operationId"), path)
        for path, item in document.get("paths", {}).items()
        for operation in item.values()
        if isinstance(operation, Mapping)
    ]


def named_examples(document: Mapping[str, Any]) -> dict[str, Any]:
    """The 200 JSON examples of the document's operations, by name (``default`` for ``example``)."""
    found: dict[str, Any] = {}
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, Mapping):
                continue
            media = operation.get("responses", {}).get("200", {}).get("content", {})
            content = media.get("application/json", {})
            if "example" in content:
                found["default"] = content["example"]
            found |= {name: ex["value"] for name, ex in content.get("examples", {}).items()}
    return found


#: Marks sibling keywords that are our choice (the vendor-only contract drops them) ...
ASSUMED = "x-usagemock-assumed"
#: ... and sibling keywords the vendor's text implies (kept: servers are held to them).
INFERRED = "x-usagemock-inferred"


@dataclass(frozen=True)
class Marked:
    """One keyword of a document marked assumed or inferred, where it stands, and why."""

    pointer: str
    keyword: str
    why: str


def marked(document: Mapping[str, Any], mark: str = ASSUMED) -> list[Marked]:
    """Every keyword ``mark`` (``ASSUMED`` or ``INFERRED``) marks in ``document``, in order."""
    found = []
    for pointer, node in _mappings(document, ""):
        reasons = node.get(mark)
        if isinstance(reasons, Mapping):
            found += [
                Marked(pointer, str(key), " ".join(str(why).split()))
                for key, why in reasons.items()
            ]
    return found


def _mappings(node: Any, pointer: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(node, Mapping):
        yield pointer, node
        for key, value in node.items():
            yield from _mappings(value, f"{pointer}/{_escape(str(key))}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _mappings(value, f"{pointer}/{index}")


def vendor_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` holding only what the vendor documents or implies.

    Every keyword marked ``x-usagemock-assumed`` is dropped from the node that marks it, so the
    kit judges a server by this view (e.g. an error status the vendor lists keeps its status but
    loses a problem+json body the mock chose: any body passes).
    """

    def strip(node: Any) -> Any:
        if isinstance(node, Mapping):
            reasons = node.get(ASSUMED)
            dropped = set(reasons) if isinstance(reasons, Mapping) else set()
            return {key: strip(value) for key, value in node.items() if key not in dropped}
        if isinstance(node, list):
            return [strip(value) for value in node]
        return node

    view = strip(document)
    assert isinstance(view, dict)
    return view
