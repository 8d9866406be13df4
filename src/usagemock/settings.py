"""One frozen settings object, built at the edge: defaults < ``USAGEMOCK_*`` env < CLI flags."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from usagemock.apis import names
from usagemock.domain.clock import calendar_moment
from usagemock.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Everything the mock server needs to know to start."""

    host: str = "127.0.0.1"
    port: int = 8000
    seed: int = 0
    api: str = "all"
    """``all`` serves every API under its own prefix; an API name serves that one at the root."""
    fixtures: Path | None = None
    """A fixtures file naming tokens and the orgs they may read; None accepts any token."""
    validate_responses: bool = False
    """Check every response against the spec (the tests turn this on; it costs throughput)."""
    access_log: bool = True
    """Log one line per request (turn off for load tests)."""
    now: datetime | None = None
    """Freeze the shared clock at this moment at start-up; None keeps the stored clock."""
    state: str = "usagemock.sqlite3"
    """SQLite file for org state and the clock, ``:memory:`` for a throw-away run, or a
    ``postgresql://`` URL: a database that replicas on several hosts share."""
    workers: int = 1
    """uvicorn worker processes; they share the state."""
    scenario: str | None = None
    """Scenario every org starts in (when nothing else sets it); None: generated orgs."""
    scenarios: Path | None = None
    """A folder of extra scenario files, added to (and overriding) the bundled ones."""
    admin_token: str | None = None
    """Bearer token the admin API requires. Without one the admin API is open on loopback
    and locked (403) when the server binds beyond it."""
    admin_cors: tuple[str, ...] = ()
    """Origins (``http://localhost:3000``) whose pages may call the admin API; by default only
    its own origin's pages may, so no other web page can drive the mock."""

    @property
    def apis(self) -> tuple[str, ...]:
        """The APIs this server serves."""
        return names() if self.api == "all" else (self.api,)

    @property
    def loopback(self) -> bool:
        """Whether the server binds only to this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _port(text: str, source: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise ConfigError(f"{source} is {text!r}, not a port number; use a whole number 1-65535.")
    return port


def _seed(text: str, source: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{source} is {text!r}, not a whole number; use e.g. 42.") from None


def serve_choices() -> tuple[str, ...]:
    """What ``--api`` takes: ``all`` or a registered API's name."""
    return ("all", *names())


def _api(text: str, source: str) -> str:
    if text not in serve_choices():
        raise ConfigError(f"{source} is {text!r}; use one of: {', '.join(serve_choices())}.")
    return text


def _fixtures(text: str, source: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise ConfigError(f"{source} is {text!r}, which is a folder; name the file.")
    if not path.is_file():
        raise ConfigError(f"{source} is {text!r}, but there is no such file.")
    return path


def _flag(text: str, source: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{source} is {text!r}; use true or false.")


def _moment(text: str, source: str) -> datetime:
    try:
        return calendar_moment(text).astimezone(UTC)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}.") from None


def _workers(text: str, source: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        workers = 0
    if not 1 <= workers <= 64:
        raise ConfigError(f"{source} is {text!r}; use a whole number of workers from 1 to 64.")
    return workers


def _text(text: str, source: str) -> str:
    if not text.strip():
        raise ConfigError(f"{source} is empty; give a value or leave it unset.")
    return text.strip()


def _folder(text: str, source: str) -> Path:
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"{source} is {text!r}, which is a file; name the folder holding your scenario files."
        )
    if not path.is_dir():
        raise ConfigError(f"{source} is {text!r}, but there is no such folder.")
    return path


def _host(text: str, source: str) -> str:
    if not text.strip():
        raise ConfigError(f"{source} is empty; use an address such as 127.0.0.1 or 0.0.0.0.")
    return text.strip()


def origin(text: str) -> str | None:
    """``text`` as a browser writes it in an ``Origin`` header (RFC 6454), or None if no origin.

    Lower-case scheme and host, the port only when it is not the scheme's default, nothing else.
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{shown}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origins(text: str, source: str) -> tuple[str, ...]:
    named = [part.strip() for part in text.split(",") if part.strip()]
    for part in named:
        if origin(part) is None:
            raise ConfigError(
                f"{source} has {part!r}, which is not an origin; name each page's origin as "
                "scheme://host[:port], e.g. http://localhost:3000 (no '*', no path)."
            )
    return tuple(dict.fromkeys(o for o in map(origin, named) if o is not None))


_PARSERS = {
    "host": _host,
    "port": _port,
    "seed": _seed,
    "api": _api,
    "fixtures": _fixtures,
    "validate_responses": _flag,
    "access_log": _flag,
    "now": _moment,
    "state": _text,
    "workers": _workers,
    "scenario": _text,
    "scenarios": _folder,
    "admin_token": _text,
    "admin_cors": _origins,
}


_SECRETS = frozenset({"admin_token"})


def build_settings(environ: Mapping[str, str], flags: Mapping[str, Any]) -> Settings:
    """Layer defaults, ``USAGEMOCK_<NAME>`` variables and CLI flags (None means not given)."""
    values: dict[str, Any] = {}
    for field in fields(Settings):
        parse = _PARSERS[field.name]
        variable = f"USAGEMOCK_{field.name.upper()}"
        # An empty variable (``USAGEMOCK_SEED=`` in a compose file) means unset, except for a
        # secret: an empty admin token is one that failed to arrive, and _text refuses it.
        if environ.get(variable, "").strip() or (variable in environ and field.name in _SECRETS):
            values[field.name] = parse(environ[variable], f"Environment variable {variable}")
        flag = flags.get(field.name)
        if flag is not None:
            option = "--" + field.name.replace("_", "-")
            values[field.name] = parse(str(flag), f"Option {option}")
    settings = replace(Settings(), **values)
    if settings.workers > 1 and settings.state == ":memory:":
        raise ConfigError(
            "--workers above 1 needs a state file the workers can share; --state :memory: is "
            "private to one process. Pass --state PATH or --workers 1."
        )
    return settings
