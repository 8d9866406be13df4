"""The registry of API definitions: every other module asks it, none names an API.

Each API is one package here (``timbal``, ``kenbun``) with two halves: its :class:`ApiFacts`
(spec, rules, the kit's facts; imports only the rules and the specs) and its mock definition
(:class:`usagemock.apis.api_definition.ApiDefinition`: accounts, JSON, scenarios, error body),
imported only when the mock first asks for it. An API defined outside usagemock is added with
:func:`register` before the mock or the kit is built (see ARCHITECTURE.md, "Adding an API").
"""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from usagemock.apis.api_facts import ApiFacts
from usagemock.apis.kenbun.facts import FACTS as _KENBUN
from usagemock.apis.timbal.facts import FACTS as _TIMBAL
from usagemock.errors import ConfigError
from usagemock.rules import DEFAULT_CLOCK_SKEW, Answer, Body

if TYPE_CHECKING:
    from usagemock.apis.api_definition import ApiDefinition

__all__ = [
    "ApiFacts",
    "definition",
    "facts",
    "moment_violations",
    "names",
    "register",
    "register_named",
    "series_violations",
    "unregister",
    "violations",
]

# Lower case letters, digits and "_": a name is a URL segment, a flag value and a store key.
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Names an API may not take: ``--api all`` and the admin API's spec.
RESERVED = frozenset({"all", "admin"})

_REGISTRY: dict[str, ApiFacts] = {api.name: api for api in (_TIMBAL, _KENBUN)}
_LOADED: dict[str, ApiDefinition[Any]] = {}


def names() -> tuple[str, ...]:
    """Every registered API's name, in the order they were registered."""
    return tuple(_REGISTRY)


def facts(name: str) -> ApiFacts:
    """The facts of API ``name``; a :class:`ConfigError` naming those there are otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"No API named {name!r}; usagemock knows {', '.join(names())}.") from None


def definition(name: str) -> ApiDefinition[Any]:
    """The mock half of API ``name``, imported the first time it is asked for."""
    if name not in _LOADED:
        loaded = _import_definition(facts(name))
        if loaded.facts is not facts(name):
            raise ConfigError(_mismatch(facts(name), loaded.facts))
        _LOADED[name] = loaded
    return _LOADED[name]


def _import_definition(api: ApiFacts) -> Any:
    """The object ``api.definition`` names; a :class:`ConfigError` saying why it cannot be had."""
    module, colon, attribute = api.definition.partition(":")
    where = f"The definition of API {api.name!r}, {api.definition!r},"
    if not (colon and module and attribute):
        raise ConfigError(f"{where} is not 'module:attribute'; e.g. 'my_api:DEFINITION'.")
    try:
        imported = importlib.import_module(module)
    except ImportError as exc:
        problem = f"{where} cannot be imported ({exc}); is its folder on sys.path?"
        raise ConfigError(problem) from None
    if not hasattr(imported, attribute):
        raise ConfigError(f"{where} names nothing: module {module} has no {attribute}.")
    return getattr(imported, attribute)


def _mismatch(api: ApiFacts, held: ApiFacts) -> str:
    """Why the definition ``api`` names holds facts ``held`` that are not ``api`` itself."""
    if held.name != api.name:
        return (
            f"{api.definition} is the definition of {held.name!r}, not of {api.name!r}; point "
            "the facts' definition at their own API's."
        )
    # Same name, another object: most often the module ran as a script (``__main__``) and was
    # imported again by its module name, or the facts were copied (dataclasses.replace).
    return (
        f"{api.definition} holds another ApiFacts named {api.name!r} than the one registered; "
        "register the very FACTS its definition holds (a module run as a script is imported "
        "twice: register from another module)."
    )


def register(api: ApiFacts) -> None:
    """Add an API defined outside usagemock (its ``definition`` must be importable)."""
    if not _NAME.match(api.name) or api.name in RESERVED:
        raise ConfigError(
            f"An API may not be named {api.name!r}: use lower case letters, digits and '_', "
            f"starting with a letter, other than {', '.join(sorted(RESERVED))}."
        )
    if not api.sample_path.startswith("/"):
        raise ConfigError(
            f"API {api.name!r}: sample_path {api.sample_path!r} must start with '/' (a path "
            "below the API's base URL, e.g. '/usage')."
        )
    if api.name in _REGISTRY:
        raise ConfigError(f"An API named {api.name!r} is registered already; pick another name.")
    _REGISTRY[api.name] = api


def register_named(named: str, source: str) -> ApiFacts:
    """Import the :class:`ApiFacts` ``named`` (``module:attribute``) and register it.

    ``source`` names where it was given (``Option --register``) in the one-line error saying why
    it cannot be registered. The very facts registered already (a program that registers them
    itself, run with the same name in ``USAGEMOCK_REGISTER``) are left as they are.
    """
    module, colon, attribute = named.strip().partition(":")
    if not (colon and module and attribute):
        raise ConfigError(
            f"{source} is {named!r}; name your API's facts as module:attribute, e.g. "
            "my_seats:FACTS."
        )
    where = f"{source} {named.strip()!r}"
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module + ".").startswith(exc.name + "."):
            raise ConfigError(
                f"{where}: there is no module {module} here; run usagemock in the folder that "
                "holds it (the current directory is importable, as with python -m) or add its "
                "folder to PYTHONPATH."
            ) from None
        raise ConfigError(_import_failed(where, module, exc)) from None
    except Exception as exc:  # the user's own code ran: whatever it raised is theirs to fix
        raise ConfigError(_import_failed(where, module, exc)) from None
    found = getattr(imported, attribute, None)
    if not isinstance(found, ApiFacts):
        held = [
            f"{module}:{name}"
            for name, value in vars(imported).items()
            if isinstance(value, ApiFacts)
        ]
        offer = f"name {' or '.join(held)}" if held else "name an ApiFacts, e.g. my_seats:FACTS"
        what = f"{attribute} is a {type(found).__name__}, not an ApiFacts"
        if found is None:
            what = f"module {module} has no {attribute}"
        raise ConfigError(f"{where}: {what}; {offer}.")
    if _REGISTRY.get(found.name) is not found:
        try:
            register(found)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return found


def _import_failed(where: str, module: str, exc: Exception) -> str:
    """Why importing the user's ``module`` failed: its error's first line, and how to see all."""
    lines = str(exc).strip().splitlines() or [""]
    return (
        f"{where}: importing {module} failed: {type(exc).__name__}: {lines[0]} (python -c "
        f"'import {module}' shows where)."
    )


def unregister(name: str) -> None:
    """Remove a registered API (a test's own API, when the test is done)."""
    facts(name)
    del _REGISTRY[name]
    _LOADED.pop(name, None)


def violations(api: str, body: Body) -> list[str]:
    """Every body rule of ``api`` that ``body`` breaks, as ``rule: what`` lines."""
    return facts(api).violations(body)


def moment_violations(api: str, answer: Answer, skew: timedelta = DEFAULT_CLOCK_SKEW) -> list[str]:
    """Every moment rule of ``api`` that ``answer`` breaks, as ``rule: what`` lines."""
    return facts(api).moment_violations(answer, skew)


def series_violations(
    api: str, earlier: Answer, later: Answer, skew: timedelta = DEFAULT_CLOCK_SKEW
) -> list[str]:
    """Every series rule of ``api`` that the pair breaks, as ``rule: what`` lines."""
    return facts(api).series_violations(earlier, later, skew)
