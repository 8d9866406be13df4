"""``usagemock test``: run the contract kit against the in-process mock or a deployed URL.

Flags -> one :class:`usagemock.kit.Plan` per API -> the kit's event stream -> report handlers
-> exit code (0 passed, 1 contract failures, 2 usage or connection error).
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from usagemock.apis import names
from usagemock.cli import ApiChoice, main, registered_by_option
from usagemock.errors import ConfigError, KitMissing
from usagemock.settings import Settings
from usagemock.specs import TOKEN_VARIABLE

if TYPE_CHECKING:
    from usagemock.kit import Target

F = TypeVar("F", bound=Callable[..., Any])

#: The token and orgs of the in-process mock, when the command line names none.
IN_PROCESS_TOKEN = "usagemock-kit"
IN_PROCESS_ORGS = ("org_kit_alpha", "org_kit_beta")


def token_option(help: str) -> Callable[[F], F]:
    """``--token``, refused when given empty or blank (see :func:`given_token`)."""
    return click.option("--token", callback=given_token, help=help)


def given_token(ctx: click.Context, param: click.Parameter, token: str | None) -> str | None:
    """A ``--token`` as given; "" (an unset variable) must not fall back to the environment's."""
    if token is not None:
        fix = f"pass a token, or leave --token out to use ${TOKEN_VARIABLE}"
        non_blank((token,), "--token", fix)
    return token


def org_ids_option(help: str) -> Callable[[F], F]:
    """``--org-id`` (repeatable, as ``org_ids``), each refused when empty or blank."""
    return click.option(
        "--org-id",
        "org_ids",
        multiple=True,
        callback=lambda ctx, param, orgs: non_blank(orgs),
        help=help,
    )


def non_blank(
    values: tuple[str, ...],
    option: str = "--org-id",
    fix: str = "pass the id of an org the token owns, or leave the option out",
) -> tuple[str, ...]:
    """``values`` of ``option`` as given, or a ConfigError for an empty or blank one (``fix``)."""
    for value in values:
        if not value.strip():
            what = "blank" if value else "empty (an unset variable?)"
            raise ConfigError(f"{option} {value!r} is {what}; {fix}.")
    return values


@main.command("test")
@click.option("--api", required=True, type=ApiChoice("all"), help="API to test.")
@click.option("--base-url", help="Base URL of a deployment; default: the mock, in-process.")
@token_option(f"Bearer token (never printed). [env {TOKEN_VARIABLE}]")
@org_ids_option("An org the token owns (repeatable).")
@click.option("--max-examples", type=click.IntRange(1), help="Generated cases per phase.")
@click.option("--samples", type=click.IntRange(0), help="Calls per known org, each checked.")
@click.option("--seed", type=int, help="Seed of every generated case; default: a random one.")
@click.option(
    "--scenario",
    help="The scenario the target runs: also check what it promises "
    "(its expect: block). In-process, the mock starts every org in it.",
)
@click.option(
    "--scenarios",
    envvar="USAGEMOCK_SCENARIOS",
    type=click.Path(path_type=Path),
    help="Folder of your own scenario files, added to the bundled ones (as serve's), "
    "for --scenario. [env USAGEMOCK_SCENARIOS]",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail on notes too: where the server chose otherwise than the mock's assumptions.",
)
@click.option(
    "--clock-skew",
    type=click.FloatRange(0),
    help="Seconds the server's clock may be off ours before a time rule breaks [default: 300].",
)
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML.")
@click.option(
    "--summary",
    type=click.Path(dir_okay=False, path_type=Path),
    help='Append a Markdown summary (GitHub: --summary "$GITHUB_STEP_SUMMARY").',
)
def test_command(**flags: Any) -> None:
    """Check an API against its spec and documented rules (exit 1 on any broken check)."""
    try:
        from usagemock import kit
    except ImportError as exc:  # schemathesis is an extra: `usagemock serve` does not need it
        raise KitMissing(exc.name) from None
    token = flags["token"] or os.environ.get(TOKEN_VARIABLE)
    base_url: str | None = flags["base_url"]
    if base_url is not None:  # given, even as "": an unset $STAGING_URL must not test the mock
        base_url = kit.Target.live(base_url).base_url
    if base_url and flags["api"] == "all":
        raise ConfigError("--api all tests the in-process mock; with --base-url name one API.")
    if base_url and not token:
        raise ConfigError(
            f"Testing {base_url} needs a token: set {TOKEN_VARIABLE} (or pass --token)."
        )
    seed = flags["seed"] if flags["seed"] is not None else random.randrange(2**31)
    apis = names() if flags["api"] == "all" else (flags["api"],)
    handlers: list[Any] = [kit.TerminalReport(click.echo, rerun=_rerun_line(flags, token or ""))]
    if flags["junit"]:
        junit = kit.JUnitReport(flags["junit"])
        junit.check_writable()  # before the run: a CI job must not test for minutes, then fail
        handlers.append(junit)
    if flags["summary"]:
        from usagemock.kit.summary import MarkdownSummary

        summary = MarkdownSummary(flags["summary"])
        summary.check_writable()
        handlers.append(summary)
    passed = True
    for api in apis:
        expect = _expectations(flags["scenario"], flags["scenarios"], api)
        with _target(
            api, base_url, token, flags["org_ids"], flags["scenario"], flags["scenarios"]
        ) as (
            target,
            token_,
            orgs,
        ):
            target.check_reachable()
            plan = kit.Plan(
                api=api,
                target=target,
                token=token_,
                seed=seed,
                org_ids=orgs,
                max_examples=flags["max_examples"] or kit.DEFAULT_MAX_EXAMPLES,
                samples=kit.DEFAULT_SAMPLES if flags["samples"] is None else flags["samples"],
                scenario=flags["scenario"],
                expect=expect,
                strict=flags["strict"],
                clock_skew=kit.DEFAULT_CLOCK_SKEW
                if flags["clock_skew"] is None
                else timedelta(seconds=flags["clock_skew"]),
            )
            for event in kit.run(plan):
                for handler in handlers:
                    handler.handle(event)
                if isinstance(event, kit.RunFinished):
                    passed = passed and event.passed
    sys.exit(0 if passed else 1)


def _expectations(scenario: str | None, folder: Path | None, api: str) -> dict[str, Any] | None:
    """What ``scenario`` (bundled, or in ``folder``) promises about ``api``, or a ConfigError.

    None without a scenario.
    """
    if scenario is None:
        return None
    from usagemock.scenarios import with_user_scenarios

    scenarios = with_user_scenarios(folder)
    if scenario not in scenarios:
        raise ConfigError(
            f"--scenario {scenario}: no such scenario; there are {', '.join(sorted(scenarios))}."
        )
    if api not in scenarios[scenario].apis:
        raise ConfigError(
            f"--scenario {scenario} covers {', '.join(scenarios[scenario].apis)}, "
            f"not {api}; pass --api with one of those."
        )
    return scenarios[scenario].expectations(api)


@contextmanager
def _target(
    api: str,
    base_url: str | None,
    token: str | None,
    org_ids: tuple[str, ...],
    scenario: str | None = None,
    scenarios: Path | None = None,
) -> Iterator[tuple[Target, str, tuple[str, ...]]]:
    """The target, token and owned orgs: a URL as given, or a fresh mock in this process.

    The in-process mock gets a fixtures file naming one token that owns the given orgs, so the
    auth checks see what a real deployment does: 401 for other tokens, 403 for other orgs.
    """
    from usagemock.kit import Target

    if base_url:
        yield Target.live(base_url), token or "", org_ids
        return
    from usagemock.web.app import create_app

    token = token or IN_PROCESS_TOKEN
    orgs = org_ids or IN_PROCESS_ORGS
    with tempfile.TemporaryDirectory(prefix="usagemock-test-") as tmp:
        fixtures = Path(tmp) / "access.yaml"
        # JSON is YAML, and keeps any token or org id a plain string.
        fixtures.write_text(json.dumps({"tokens": {token: {"org": orgs[0], "can_read": orgs}}}))
        settings = Settings(api=api, fixtures=fixtures, scenario=scenario, scenarios=scenarios)
        app = create_app(throwaway(settings))
        yield Target.in_process(app), token, orgs


def throwaway(settings: Settings) -> Settings:
    """``settings`` with in-memory state: a test run must leave no state file behind."""
    return dataclasses.replace(settings, state=":memory:")


def _rerun_line(flags: dict[str, Any], token: str) -> str:
    """The command a failure tells the reader to run again (the token stays in the environment)."""
    from usagemock.kit.replay import shell_word

    registered = [f"--register {shell_word(named, token)}" for named in registered_by_option()]
    parts = ["usagemock", *registered, "test", f"--api {flags['api']}"]
    if flags["base_url"]:
        parts.append(f"--base-url {shell_word(flags['base_url'], token)}")
    parts += [f"--org-id {shell_word(org, token)}" for org in flags["org_ids"]]
    if flags["scenario"]:
        parts.append(f"--scenario {shell_word(flags['scenario'], token)}")
    if flags["scenarios"]:
        parts.append(f"--scenarios {shell_word(str(flags['scenarios']), token)}")
    if flags["strict"]:
        parts.append("--strict")
    for name in ("max_examples", "samples", "clock_skew"):
        if flags[name] is not None:
            parts.append(f"--{name.replace('_', '-')} {flags[name]}")
    return " ".join(parts)
