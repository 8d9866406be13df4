"""Where the API under test answers: a live base URL, or an ASGI app in this process.

One small value class, not two implementations: a :class:`Target` is a base URL plus, for the
in-process mock, the ASGI ``app``. Reports use ``label`` and ``base_url``; the one place that
asks which kind it is, is where the runner builds the schema (schemathesis calls an app
in-process when it is given one, and the network otherwise), and ``check_reachable``, which has
nothing to check in-process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from usagemock.errors import UsageMockError

#: The base URL an in-process app is addressed by; its curl lines replay against a local
#: ``usagemock serve --api <name>``.
IN_PROCESS_URL = "http://127.0.0.1:8000"


class TargetError(UsageMockError):
    """The server under test cannot be reached, or its address is not a URL."""


_EXAMPLE = "use e.g. https://api.example.com"


def url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as the base URL of a server (None: nothing), as a clause."""
    if not url.strip():
        return f"is empty (an unset variable?); {_EXAMPLE}, or leave the option out"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "has a space or a control character in it; percent-encode it or remove it"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number, or outside 0-65535
    except ValueError as exc:
        return f"is not a URL ({exc}); {_EXAMPLE}"
    if parts.scheme not in ("http", "https"):
        return f"is not an http(s) URL; {_EXAMPLE}"
    if not parts.hostname:
        return f"has no host; {_EXAMPLE}"
    if port == 0:
        return "has port 0; use a port number 1-65535"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "has a query or fragment; a base URL ends at its path (https://host/api)"
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"is not a URL ({exc}); {_EXAMPLE}"
    return None


@dataclass(frozen=True)
class Target:
    """The server a contract run talks to."""

    base_url: str
    app: Any = None
    """An ASGI app to call in-process; None means the network."""
    option: str = "--base-url"
    """The flag that gave ``base_url``: an error about it names the flag to fix."""

    @classmethod
    def live(cls, base_url: str, *, option: str = "--base-url") -> Target:
        """A deployment (or a local server) at ``base_url``, given by ``option``.

        An empty or malformed URL is a TargetError: an unset ``$STAGING_URL`` must stop a CI
        run, never quietly test something else.
        """
        problem = url_problem(base_url)
        if problem is not None:
            raise TargetError(f"{option} {base_url!r} {problem}")
        return cls(base_url.rstrip("/"), option=option)

    @classmethod
    def in_process(cls, app: Any) -> Target:
        """An ASGI app called in this process, without a socket."""
        return cls(IN_PROCESS_URL, app)

    @property
    def engine_base_url(self) -> str:
        """The base URL schemathesis' engine gets: none (relative paths) for an in-process app.

        The engine's capability probes go over the network to an absolute base URL even when
        the schema has an app: an in-process run would send them to whatever listens on
        IN_PROCESS_URL (a developer's own ``usagemock serve``), and what it answered would change
        the cases a seed generates. Without a base URL the probes are skipped.
        """
        return self.base_url if self.app is None else ""

    def shown(self, url: str) -> str:
        """``url`` as reports show it: an in-process request at IN_PROCESS_URL, to replay."""
        if self.app is None or not url:
            return url
        parts = urlsplit(url)
        return self.base_url + urlunsplit(("", "", parts.path, parts.query, ""))

    @property
    def label(self) -> str:
        """How reports name this target."""
        return "the in-process mock" if self.app is not None else self.base_url

    def check_reachable(self, timeout: float = 10.0) -> None:
        """Fail with one sentence when nothing answers at the base URL (any HTTP answer will do)."""
        if self.app is not None:
            return
        try:
            httpx.get(self.base_url + "/", timeout=timeout)
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise TargetError(
                f"Cannot reach {self.base_url} ({reason}); check {self.option} and that the "
                "server is up."
            ) from None
