"""The users' own APIs a run registers: ``--register`` or ``USAGEMOCK_REGISTER``.

The CLI (every command, and each ``serve`` worker) and the pytest plugin share it. Standard
library only at the top, since the plugin loads with every pytest run; the registry is imported
when there is something to register.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

#: Your own APIs, as ``--register`` names them (``module:attribute``, comma-separated).
REGISTER_VARIABLE = "USAGEMOCK_REGISTER"


def named(
    given: Sequence[str], option: str, environ: Mapping[str, str]
) -> tuple[tuple[str, ...], str]:
    """The APIs to register, and where they were named (the start of a refusal's line).

    ``option``'s values ``given``, else the ones ``USAGEMOCK_REGISTER`` names in ``environ``
    (blank parts skipped, as unset).
    """
    if given:
        return tuple(given), f"Option {option}"
    variable = environ.get(REGISTER_VARIABLE, "")
    return tuple(part for part in variable.split(",") if part.strip()), (
        f"Environment variable {REGISTER_VARIABLE}"
    )


def register_apis(registered: Sequence[str], source: str) -> None:
    """Register each API ``registered`` names, the current directory importable first.

    ``source`` (``Option --register``) starts the one-line :class:`ConfigError` naming the one
    that cannot be registered and why.
    """
    if not registered:
        return
    from usagemock.apis import register_named

    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)  # first, as python -m puts it, so the user's module is found
    for named in registered:
        register_named(named, source)
