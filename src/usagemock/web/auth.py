"""Bearer authentication: one reading of the Authorization header for every API, and challenges.

The public APIs plug it into connexion's security middleware through an ``AccessPolicy``; the
admin API's gate reads the header with the same :func:`credentials`, so a scheme in any case,
a repeated header or a list of credentials mean the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connexion.exceptions import OAuthProblem
from connexion.security import BearerSecurityHandler

from usagemock.access import AccessPolicy
from usagemock.web.oas31 import bearer_security


class NotOneCredential(OAuthProblem):  # type: ignore[misc]
    """An Authorization header that cannot be a single credential: repeated, or a list.

    RFC 6750 calls this ``invalid_request`` and suggests 400. Every API here answers 401 instead,
    because every operation of each documents 401 with the right fix ("check authentication
    credentials"), while a 400, where an API documents one at all, means another fix (say,
    "organization context could not be resolved"), and the admin API documents 400 only where it
    takes a body.
    Taking the first or last header instead would let a proxy's header decide who is calling.
    """


def credentials(values: Sequence[str]) -> tuple[str, str] | None:
    """``(scheme in lower case, credential)`` from a request's Authorization values, if any.

    None when there is no header or it holds no credential (blank, or a scheme alone); raises
    :class:`NotOneCredential` for several headers, or one whose credential has a comma or a space
    (a token68 has neither, so it is a list, as a proxy merging two headers would write it).
    """
    if len(values) > 1:
        raise NotOneCredential(
            detail=f"The request has {len(values)} Authorization headers; send exactly one "
            "'Authorization: Bearer <token>'."
        )
    parts = values[0].split(None, 1) if values else []
    if len(parts) < 2:
        return None
    scheme, credential = parts[0].lower(), parts[1].strip()
    if "," in credential or any(char.isspace() for char in credential):
        raise NotOneCredential(
            detail="The Authorization header holds more than one credential; send exactly one "
            "'Authorization: Bearer <token>'."
        )
    return scheme, credential


def challenge(realm: str, values: Sequence[str]) -> str:
    """The ``WWW-Authenticate`` value of a 401 (RFC 6750 section 3), for the header values sent.

    ``error`` is ``invalid_request`` for a header that is not one credential, ``invalid_token``
    when a bearer token was sent and refused, and absent when none was sent, as section 3.1 asks.
    """
    try:
        sent = credentials(values)
    except NotOneCredential:
        error: str | None = "invalid_request"
    else:
        error = "invalid_token" if sent is not None and sent[0] == "bearer" else None
    return f'Bearer realm="{realm}"' + (f', error="{error}"' if error else "")


def bearer_handler(policy: AccessPolicy) -> type[BearerSecurityHandler]:
    """A connexion security handler for ``scheme: bearer`` that asks ``policy`` about tokens.

    It reads the header with :func:`credentials`, decides which tokens are valid (401
    otherwise) and hands the handler a principal.
    """

    def verify(token: str) -> dict[str, Any] | None:
        principal = policy.authenticate(token)
        return None if principal is None else {"sub": principal.token, "principal": principal}

    return bearer_security(verify, credentials)


def mask(token: str) -> str:
    """Show enough of a token to recognise it in a message, never the whole secret."""
    return token[:4] + "…" if len(token) > 6 else "…"


def gate_checked_bearer() -> type[BearerSecurityHandler]:
    """A bearer handler that lets every request through: for APIs whose gate checked it already.

    The admin API's ``AdminGate`` decides who may call it; connexion only needs a handler for the
    spec's ``admin_bearer`` scheme (without one it logs a warning per operation).
    """
    return bearer_handler(AccessPolicy())
