"""Bearer authentication through connexion's security middleware, answered by an access policy."""

from __future__ import annotations

import functools
from typing import Any

from connexion.security import BearerSecurityHandler

from usagemock.access import AccessPolicy


def bearer_handler(policy: AccessPolicy) -> type[BearerSecurityHandler]:
    """A connexion security handler for ``scheme: bearer`` that asks ``policy`` about tokens.

    connexion itself answers a missing header, another scheme or a blank token with 401; this
    handler decides which tokens are valid (401 otherwise) and hands the handler a principal.
    """

    def verify(token: str) -> dict[str, Any] | None:
        principal = policy.authenticate(token.strip())
        return None if principal is None else {"sub": principal.token, "principal": principal}

    class PolicyBearerHandler(BearerSecurityHandler):  # type: ignore[misc]
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Any:
            return verify

        # connexion asks this twice per request and answers with inspect.signature each time
        # (8% of a request's CPU in the benchmark); ``verify`` never changes, so remember it.
        _accepts_kwarg = staticmethod(functools.cache(BearerSecurityHandler._accepts_kwarg))

    return PolicyBearerHandler


def mask(token: str) -> str:
    """Show enough of a token to recognise it in a message, never the whole secret."""
    return token[:4] + "…" if len(token) > 6 else "…"


def gate_checked_bearer() -> type[BearerSecurityHandler]:
    """A bearer handler that lets every request through: for APIs whose gate checked it already.

    The admin API's ``AdminGate`` decides who may call it; connexion only needs a handler for the
    spec's ``admin_bearer`` scheme (without one it logs a warning per operation).
    """
    return bearer_handler(AccessPolicy())
