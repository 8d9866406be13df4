"""The ``usagemock`` command: the only package that prints or exits.

Each command is thin: flags -> settings -> one library call -> exit code
(0 ok, 1 problems found, 2 usage, config or spec error). Commands live one module per area
(``serve`` and ``lint`` here); each registers itself on :data:`main`.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from usagemock import __version__
from usagemock.errors import UsageMockError
from usagemock.settings import SERVE_CHOICES, Settings, build_settings
from usagemock.specs import Problem, lint, load_document

SAMPLE_PATHS = {"timbal": "/orgs/org_demo/billing/overage", "kenbun": "/usage"}


class _Group(click.Group):
    """Report usagemock's own errors as one line on stderr with exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageMockError as exc:
            click.echo(f"usagemock: error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="usagemock")
def main() -> None:
    """OpenAPI-driven mock server and contract-test kit for usage and billing APIs."""


@main.command()
@click.option("--host", help="Address to bind. [env USAGEMOCK_HOST; default 127.0.0.1]")
@click.option("--port", help="Port to listen on. [env USAGEMOCK_PORT; default 8000]")
@click.option("--seed", help="Seed for every generated org. [env USAGEMOCK_SEED; default 0]")
@click.option(
    "--api",
    help=f"One of {', '.join(SERVE_CHOICES)}: 'all' puts each API under "
    "/<name>/, a name serves that API at the root. [env USAGEMOCK_API; default all]",
)
@click.option(
    "--fixtures",
    help="Fixtures file naming tokens and the orgs they may read "
    "(see fixtures/access.yaml). [env USAGEMOCK_FIXTURES; default: any token works]",
)
@click.option(
    "--validate-responses/--no-validate-responses",
    default=None,
    help="Check every response against the spec. [env USAGEMOCK_VALIDATE_RESPONSES]",
)
@click.option(
    "--now",
    help="Freeze the clock at this ISO 8601 moment, e.g. 2026-03-17T14:30:00Z. "
    "[env USAGEMOCK_NOW; default: real time]",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="Log each request. [env USAGEMOCK_ACCESS_LOG; default on]",
)
def serve(**flags: Any) -> None:
    """Serve the mock APIs until interrupted."""
    settings = build_settings(os.environ, flags)
    # connexion 3.3 imports starlette's TestClient, which warns under starlette >= 1.0 that it
    # prefers httpx2; the mock never uses that client, so the warning is noise to every user.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    import uvicorn

    from usagemock.web.app import create_app

    app = create_app(settings)
    _check_port_free(settings)
    click.echo(banner(settings))
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=settings.access_log,
        lifespan="on",
    )


@main.command("lint")
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
def lint_command(specs: tuple[Path, ...]) -> None:
    """Check OpenAPI 3.1 documents; print each problem with its JSON pointer (exit 1 if any)."""
    failed = False
    for path in specs:
        problems: list[Problem] = lint(load_document(path))
        for problem in problems:
            click.echo(f"{path}{problem}")
        if problems:
            failed = True
            click.echo(f"{path}: {len(problems)} problem(s)", err=True)
        else:
            click.echo(f"{path}: valid OpenAPI 3.1")
    sys.exit(1 if failed else 0)


def banner(settings: Settings) -> str:
    """The start-up text: where each API is, its docs, and one curl to try per API."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    root = f"http://{host}:{settings.port}"
    token = "demo" if settings.fixtures is None else "<a token from the fixtures file>"
    who = (
        "any bearer token works"
        if settings.fixtures is None
        else f"tokens from {settings.fixtures}"
    )
    lines = [f"usagemock {__version__}: seed {settings.seed}, {who}"]
    tries = []
    for api in settings.apis:
        base = root + (f"/{api}" if settings.api == "all" else "")
        lines.append(f"  {api:<7} {base}/   docs: {base}/ui/")
        tries.append(f"  curl -H 'Authorization: Bearer {token}' {base}{SAMPLE_PATHS[api]}")
    return "\n".join([*lines, "Try:", *tries, "Stop with Ctrl+C."])


def _check_port_free(settings: Settings) -> None:
    """Fail with a sentence, not uvicorn's log line, when the port is taken."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"fails: {exc}"
            raise UsageMockError(
                f"Binding {settings.host}:{settings.port} {reason}; pass --port with a free port."
            ) from exc


from usagemock.cli import test as _test  # noqa: E402,F401  (registers `usagemock test`)
