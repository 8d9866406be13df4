"""Where the API under test answers: a live base URL, or an ASGI app in this process.

One seam, two implementations (as httpx's transports): the runner never asks which it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from usagemock.errors import UsageMockError

#: The base URL an in-process app is addressed by; its curl lines replay against a local
#: ``usagemock serve --api <name>``.
IN_PROCESS_URL = "http://127.0.0.1:8000"


class TargetError(UsageMockError):
    """The server under test cannot be reached, or its address is not a URL."""


@dataclass(frozen=True)
class Target:
    """The server a contract run talks to."""

    base_url: str
    app: Any = None
    """An ASGI app to call in-process; None means the network."""

    @classmethod
    def live(cls, base_url: str) -> Target:
        """A deployment (or a local server) at ``base_url``."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise TargetError(
                f"--base-url {base_url!r} is not an http(s) URL; use e.g. https://api.example.com."
            )
        return cls(base_url.rstrip("/"))

    @classmethod
    def in_process(cls, app: Any) -> Target:
        """An ASGI app called in this process, without a socket."""
        return cls(IN_PROCESS_URL, app)

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
                f"Cannot reach {self.base_url} ({reason}); check --base-url and that the "
                "server is up."
            ) from None
