"""``usagemock serve``: run the mock (one process, or several workers sharing the state file)."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import errno
import gc
import json
import os
import socket
import sys
from collections.abc import Iterator
from typing import Any

import click
from starlette.types import ASGIApp

from usagemock import __version__
from usagemock.apis import facts
from usagemock.cli import main, registered_by_option
from usagemock.cli.accesslog import AccessLog
from usagemock.cli.onewrite import OneWriteProtocol
from usagemock.errors import UsageMockError
from usagemock.ownapis import register_apis
from usagemock.settings import Settings, build_settings, serve_choices
from usagemock.store import redacted

SHUTDOWN_SECONDS = 2  # how long a stop waits for requests in flight before closing them
_WORKER_SETTINGS = "USAGEMOCK_WORKER_SETTINGS"  # how the parent hands settings to its workers


@main.command()
@click.option("--host", help="Address to bind. [env USAGEMOCK_HOST; default 127.0.0.1]")
@click.option("--port", help="Port to listen on. [env USAGEMOCK_PORT; default 8000]")
@click.option("--seed", help="Seed for every generated org. [env USAGEMOCK_SEED; default 0]")
@click.option(
    "--api",
    help=f"One of {', '.join(serve_choices())}: 'all' puts each API under "
    "/<name>/, a name serves that API at the root. [env USAGEMOCK_API; default all]",
)
@click.option(
    "--fixtures",
    help="Fixtures file naming tokens, the orgs they may read and the "
    "scenarios orgs start in (see fixtures/access.yaml). [env USAGEMOCK_FIXTURES]",
)
@click.option(
    "--scenario",
    help="Scenario every org starts in, e.g. approaching_limit. "
    "[env USAGEMOCK_SCENARIO; default: generated orgs]",
)
@click.option(
    "--scenarios",
    help="Folder of extra scenario files (added to the bundled ones). [env USAGEMOCK_SCENARIOS]",
)
@click.option(
    "--state",
    help="SQLite file for org state and the clock, :memory:, or a PostgreSQL URL "
    "(postgresql://USER@HOST:PORT/DB) that replicas share. "
    "[env USAGEMOCK_STATE; default usagemock.sqlite3]",
)
@click.option(
    "--workers", help="Worker processes sharing the state file. [env USAGEMOCK_WORKERS; default 1]"
)
@click.option(
    "--now",
    help="Freeze the clock at this ISO 8601 moment, e.g. "
    "2026-03-17T14:30:00Z. [env USAGEMOCK_NOW; default: the stored clock]",
)
@click.option(
    "--admin-token",
    help="Bearer token the admin API (/_usagemock) requires. [env USAGEMOCK_ADMIN_TOKEN]",
)
@click.option(
    "--admin-cors",
    multiple=True,
    metavar="ORIGIN",
    help="Let pages of this origin (e.g. http://localhost:3000) call the admin API; repeatable. "
    "By default only the mock's own pages may. [env USAGEMOCK_ADMIN_CORS, comma-separated]",
)
@click.option(
    "--validate-responses/--no-validate-responses",
    default=None,
    help="Check every response against the spec. [env USAGEMOCK_VALIDATE_RESPONSES]",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="Log each request. [env USAGEMOCK_ACCESS_LOG; default on]",
)
def serve(**flags: Any) -> None:
    """Serve the mock APIs and the admin API until interrupted.

    The public APIs answer CORS from any origin; the admin API only its own pages and the
    origins named with --admin-cors, so no other web page can drive the mock.
    """
    flags["admin_cors"] = ",".join(flags["admin_cors"]) or None  # a repeated flag, as the variable
    with _collector_paused():
        settings = build_settings(os.environ, flags)
        import uvicorn

        from usagemock.web.app import create_app

        _check_bind(settings)
        app = _served(create_app(settings), settings)  # checks every file and sets the clock, once
    click.echo(banner(settings))
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": _log_config(),
        "log_level": None,  # a level here would apply to the access log too, and silence it
        # on a terminal uvicorn writes the access lines (in colour); else AccessLog does
        "access_log": settings.access_log and sys.stdout.isatty(),
        "lifespan": "on",
        "http": OneWriteProtocol,  # a response's head and body in one write, not two
        "ws": "none",  # no API here speaks WebSocket: skip loading uvicorn's implementation
        # an open panel keeps its request stream open; without a bound, Ctrl+C would wait for it
        "timeout_graceful_shutdown": SHUTDOWN_SECONDS,
    }
    if settings.workers == 1:
        uvicorn.run(app, **common)
        return
    worker = dataclasses.replace(settings, now=None)  # a restarted worker must not reset it
    os.environ[_WORKER_SETTINGS] = json.dumps(
        {
            "settings": {k: _as_flag(v) for k, v in dataclasses.asdict(worker).items()},
            "register": registered_by_option(),  # a worker imports only usagemock by itself
        }
    )
    uvicorn.run("usagemock.cli.serve:worker_app", factory=True, workers=settings.workers, **common)


def _as_flag(value: Any) -> str | None:
    """A setting written back as the flag text ``build_settings`` reads (None: not given)."""
    if isinstance(value, tuple):
        return ",".join(value) or None
    return None if value is None else str(value)


def worker_app() -> Any:
    """The app of one worker process, from the settings its parent handed down."""
    with _collector_paused():
        from usagemock.web.app import create_app

        handed = json.loads(os.environ[_WORKER_SETTINGS])
        register_apis(handed["register"], "Option --register")
        settings = build_settings({}, handed["settings"])
        return _served(create_app(settings), settings)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Start-up without garbage collections; the collector as it was afterwards, error or not.

    Start-up makes some 65,000 objects (the imports, the specs, connexion's operations, faker's
    data) that live as long as the process, and :func:`_served` freezes them. Collected as it
    went, start-up ran about 180 collections, a tenth of its CPU (issue 15), to free almost
    nothing: paused, it leaves about 1,800 objects of cyclic garbage (0.7 MiB), which stay
    frozen with the rest, as collecting them would cost more start-up than it saves memory.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _served(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` as a server process runs it: with its access log, start-up garbage settled.

    Without colours (the log goes to a file or a pipe) the access lines come from
    :class:`AccessLog`, at a fraction of the cost of uvicorn's logger. What start-up built is
    then kept out of the garbage collector's way for the server's life: the specs, connexion's
    operations and faker's data are tens of thousands of objects that live as long as the
    process, and every full collection walked them all again (about a tenth of a request's CPU
    under load, issue 15). Frozen, only what requests make is collected. (No collection first:
    it would add a tenth of a second to start-up to free a little garbage.)
    """
    if settings.access_log and not sys.stdout.isatty():
        app = AccessLog(app, sys.stdout)
    gc.freeze()
    return app


def _log_config() -> dict[str, Any]:
    """The logging config: uvicorn's start-up chatter off (the banner says it), access lines on."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn"]["level"] = "WARNING"
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["formatters"]["access"]["()"] = "usagemock.cli.accesslog.AccessLine"
    return config


def banner(settings: Settings) -> str:
    """The start-up text: each API and its docs, the admin API, the panel, one curl per API."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    root = f"http://{host}:{settings.port}"
    token = "demo" if settings.fixtures is None else "<a token from the fixtures file>"
    who = (
        "any bearer token works"
        if settings.fixtures is None
        else f"tokens from {settings.fixtures}"
    )
    start = f", orgs start in scenario {settings.scenario}" if settings.scenario else ""
    lines = [
        f"usagemock {__version__}: seed {settings.seed}, {who}{start}",
        f"  state {redacted(settings.state)} ({settings.workers} worker(s))",
    ]
    tries = []
    for api in settings.apis:
        base = root + (f"/{api}" if settings.api == "all" else "")
        lines.append(f"  {api:<7} {base}/   docs: {base}/ui/")
        tries.append(f"  curl -H 'Authorization: Bearer {token}' {base}{facts(api).sample_path}")
    lines.append(f"  admin   {root}/_usagemock/   docs: {root}/_usagemock/ui/")
    lines.append(f"  panel   {root}/_usagemock/panel/   (orgs, scenarios, clock, usage chart)")
    return "\n".join([*lines, "Try:", *tries, "Stop with Ctrl+C."])


def _check_bind(settings: Settings) -> None:
    """Fail with a sentence, not uvicorn's log line, when the port is taken or the host bad."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageMockError(
                    f"Port {settings.port} on {settings.host} is already in use; pass --port "
                    "with a free port."
                ) from None
            raise UsageMockError(
                f"Cannot bind to host {settings.host!r} ({exc.strerror or exc}); pass --host "
                "with an address of this machine, e.g. 127.0.0.1 or 0.0.0.0."
            ) from None
