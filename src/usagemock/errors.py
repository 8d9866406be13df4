"""The one root exception of usagemock and its kinds: each says what is wrong and how to fix it."""

from __future__ import annotations


class UsageMockError(Exception):
    """Root of every error usagemock raises on purpose; the CLI prints it without a traceback."""

    exit_code = 2


class ConfigError(UsageMockError):
    """A setting (flag, environment variable or config file) has a value usagemock cannot use."""


class SpecError(UsageMockError):
    """An OpenAPI document cannot be loaded or is not valid OpenAPI 3.1."""


class FixtureError(UsageMockError):
    """A fixtures file is missing, malformed, or names something that does not exist."""


class KitMissing(UsageMockError):
    """The contract kit is not installed: its ``kit`` extra (schemathesis) is missing."""

    def __init__(self, missing: str | None) -> None:
        super().__init__(
            f"the contract kit needs the kit extra ({missing} is missing); install it from "
            "your usagemock clone with: pip install -e '.[kit]'"
        )


class StateUnavailable(UsageMockError):
    """The state database cannot be reached now (a server restarting, say); a retry may work.

    The web layer answers it with 503: a write that meets it was not acknowledged.
    """
