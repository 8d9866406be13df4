"""Which web pages may call the admin API: its own origin's, and origins named with --admin-cors.

The public APIs answer CORS from any origin, so a frontend on another port can use them. The
admin API resets orgs and moves the clock, and a mock on a developer's laptop is reachable from
every page their browser opens: an open policy there would let any site drive it. So, for the
admin API (our choice, as the OWASP CSRF cheat sheet recommends):

- a request whose ``Origin`` is another origin, or whose ``Sec-Fetch-Site`` says another site, is
  refused with 403 and no CORS grant, preflights included, unless ``--admin-cors`` names it;
- on loopback, the page's own origin must be a loopback name too, so a DNS-rebound host name
  (``evil.example`` resolving to 127.0.0.1) is not taken for the mock's own pages;
- a request with a body must declare it JSON (415 otherwise), which a form post or a no-cors
  fetch cannot do without a preflight, so browsers too old to send ``Origin`` are covered.

Clients that are not browsers (the CLI, curl, test tools) send none of these headers and pass.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from usagemock.error_bodies import problem_details
from usagemock.settings import origin
from usagemock.web.errors import send_error

_CROSS_SITE = frozenset({"cross-site", "same-site"})  # Sec-Fetch-Site values of other origins
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class AdminOrigins:
    """ASGI middleware: refuse other pages' requests to the admin API, grant CORS to named ones."""

    def __init__(
        self,
        app: ASGIApp,
        allowed: Sequence[str],
        *,
        loopback: bool,
        docs: Callable[[str], bool],
    ) -> None:
        self.allowed = frozenset(allowed)
        self.loopback = loopback
        self.docs = docs
        self.app: ASGIApp = (
            CORSMiddleware(
                app, allow_origins=sorted(allowed), allow_methods=["*"], allow_headers=["*"]
            )
            if allowed
            else app
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse (403 or 415, problem+json) or pass the request on."""
        if scope["type"] == "http":
            refusal = self._refusal(scope, Headers(scope=scope))
            if refusal is not None:
                await send_error(send, *refusal, problem_details)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        method = scope["method"]
        if method in ("GET", "HEAD") and self.docs(scope["path"]):
            return None  # the docs stay readable, even from a link on another site
        sent = headers.get("origin")
        if sent is not None and (origin(sent) or sent) in self.allowed:
            pass
        elif sent is not None and not self._own(sent, headers.get("host", ""), scope["scheme"]):
            page = origin(sent)
            if page is None:  # ``null``, or another Origin --admin-cors cannot name
                return 403, (
                    f"The admin API takes no requests from pages of other origins ({sent}); a "
                    "page with an opaque origin (sandboxed iframes, file:// pages) cannot be "
                    "allowed, so use its own docs page, the CLI or curl."
                )
            return 403, (
                f"The admin API takes no requests from pages of other origins ({sent}); use "
                f"its own docs page, the CLI or curl, or restart the mock with --admin-cors {page}."
            )
        elif sent is None and headers.get("sec-fetch-site", "").lower() in _CROSS_SITE:
            return 403, (
                "The admin API takes no requests from pages of other sites (Sec-Fetch-Site); use "
                "its own docs page, the CLI or curl, or name the page's origin with --admin-cors."
            )
        if method not in _NO_BODY and _has_body(headers) and not _is_json(headers):
            kind = headers.get("content-type", "no Content-Type")
            return 415, (
                f"The admin API takes JSON bodies only, and this one is {kind}; send "
                "'Content-Type: application/json'."
            )
        return None

    def _own(self, sent: str, host: str, scheme: str) -> bool:
        """Whether ``sent`` is the origin the request was addressed to (and, on loopback, local)."""
        own = origin(f"{scheme}://{host}")
        if own is None or origin(sent) != own:
            return False
        return not self.loopback or _is_loopback_name(urlsplit(own).hostname or "")


def _has_body(headers: Headers) -> bool:
    return (
        "content-type" in headers
        or "transfer-encoding" in headers
        or (headers.get("content-length", "0").strip() not in ("", "0"))
    )


def _is_json(headers: Headers) -> bool:
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _is_loopback_name(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: always this machine
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
