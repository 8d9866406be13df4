"""Bearer authentication through connexion's security middleware, answered by an access policy."""

from __future__ import annotations

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

    return PolicyBearerHandler


def mask(token: str) -> str:
    """Show enough of a token to recognise it in a message, never the whole secret."""
    return token[:4] + "…" if len(token) > 6 else "…"
