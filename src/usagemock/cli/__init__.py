"""The ``usagemock`` command: the only package that prints or exits.

Each command is thin: flags -> settings -> one library call -> exit code (0 ok, 1 problems
found, 2 usage, config or spec error, 130 interrupted). Commands live one module per area
(``lint`` here, ``serve``, the admin commands and ``test`` in their own modules), each
registered on :data:`main` when its module is imported, which happens when the command is used.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from usagemock import __version__
from usagemock.apis import names
from usagemock.errors import UsageMockError
from usagemock.ownapis import REGISTER_VARIABLE, named, register_apis
from usagemock.specs import Problem, lint, load_document

#: The module that defines each command, imported when the command is asked for: ``usagemock
#: serve`` then starts without the kit's, the proxy's and the admin client's imports.
_MODULES = {
    "clock": "admin",
    "drift": "drift",
    "fault": "admin",
    "org": "admin",
    "proxy": "proxy",
    "scenario": "admin",
    "serve": "serve",
    "test": "test",
}


#: The exit code of a command Ctrl+C stopped (128 + SIGINT).
INTERRUPTED = 130


class _Group(click.Group):
    """Commands loaded when used; usagemock's own errors as one line on stderr, exit code 2.

    A command Ctrl+C stops exits 130 with one line, without click's "Aborted!".
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, loaded or not."""
        return sorted({*super().list_commands(ctx), *_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing the module that registers it on first use."""
        if cmd_name in _MODULES and cmd_name not in self.commands:
            importlib.import_module(f"usagemock.cli.{_MODULES[cmd_name]}")
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageMockError as exc:
            click.echo(f"usagemock: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            # 130, as shells report a program Ctrl+C ended: click's own "Aborted!" exits 1,
            # which for test, drift and proxy means "the contract broke".
            click.echo("\nusagemock: interrupted", err=True)
            sys.exit(INTERRUPTED)


class ApiChoice(click.Choice[str]):
    """A registered API's name (or one of ``extra``), read from the registry when used.

    Read late, not when the command is defined, so an API registered after usagemock's import
    (``usagemock.apis.register``) is a valid choice too.
    """

    def __init__(self, *extra: str) -> None:
        self._extra = extra
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        """The registered APIs' names, then ``extra``."""
        return (*names(), *self._extra)

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        """Ignore the list ``click.Choice`` stores when built: the registry is the list."""


_REGISTERED = "usagemock.registered"  # where a command finds what --register named


@click.group(cls=_Group)
@click.option(
    "--register",
    "registered",
    multiple=True,
    metavar="MODULE:ATTRIBUTE",
    help="Add your own API to every command: the ApiFacts at MODULE:ATTRIBUTE, e.g. "
    "my_seats:FACTS (the current directory is importable, as with python -m); repeatable. "
    f"[env {REGISTER_VARIABLE}, comma-separated]",
)
@click.version_option(__version__, prog_name="usagemock")
@click.pass_context
def main(ctx: click.Context, registered: tuple[str, ...]) -> None:
    """OpenAPI-driven mock server and contract-test kit for usage and billing APIs."""
    registered, source = named(registered, "--register", os.environ)
    register_apis(registered, source)
    ctx.meta[_REGISTERED] = registered


def registered_by_option() -> tuple[str, ...]:
    """What ``--register`` (or its variable) named for the running command."""
    registered: tuple[str, ...] = click.get_current_context().meta.get(_REGISTERED, ())
    return registered


@main.command("lint")
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
def lint_command(specs: tuple[Path, ...]) -> None:
    """Check OpenAPI 3.1 documents; print each problem with its JSON pointer (exit 1 if any).

    Every file is checked, even after one that cannot be read (exit 2 then, as for one file).
    """
    failed = unreadable = False
    for path in specs:
        try:
            problems: list[Problem] = lint(load_document(path))
        except UsageMockError as exc:
            unreadable = True
            click.echo(f"usagemock: error: {exc}", err=True)
            continue
        for problem in problems:
            click.echo(f"{path}{problem}")
        if problems:
            failed = True
            click.echo(f"{path}: {len(problems)} problem(s)", err=True)
        else:
            click.echo(f"{path}: valid OpenAPI 3.1")
    sys.exit(2 if unreadable else 1 if failed else 0)
