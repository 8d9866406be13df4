"""``usagemock drift``: compare a live server with the bundled mock, as a frontend would see them.

Flags -> the mock in this process (fixtures from :func:`usagemock.kit.drift.mock_fixtures`) ->
:func:`usagemock.kit.drift.compare` -> a report on stdout -> exit code (0 nothing misleading,
1 a difference would mislead a frontend, 2 usage or connection error).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import httpx

from usagemock.apis import facts
from usagemock.cli import ApiChoice, main
from usagemock.cli.test import org_ids_option, throwaway, token_option
from usagemock.errors import ConfigError, KitMissing
from usagemock.settings import Settings
from usagemock.specs import AUTH_MODE_HEADER, TOKEN_VARIABLE

DRIFT_ORG = "org_usagemock_drift"  # the mock's org for the token when no --org-id names one


@main.command("drift")
@click.option("--api", required=True, type=ApiChoice(), help="API to compare.")
@click.option("--target", required=True, help="Base URL of the live server.")
@token_option(f"Bearer token for the live server (never printed). [env {TOKEN_VARIABLE}]")
@org_ids_option("An org the token owns (repeatable).")
@click.option(
    "--samples",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Calls per known org on each side.",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="markdown fits $GITHUB_STEP_SUMMARY.",
)
def drift_command(**flags: Any) -> None:
    """Send the same requests to --target and to the mock; report what would mislead a frontend."""
    try:
        from usagemock.kit import drift, driftreport
        from usagemock.kit.targets import Target
    except ImportError as exc:  # schemathesis is an extra: `usagemock serve` does not need it
        raise KitMissing(exc.name) from None
    from usagemock.web.app import create_app

    live = Target.live(flags["target"], option="--target")
    token = flags["token"] or os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise ConfigError(
            f"Comparing {live.base_url} needs a token: set {TOKEN_VARIABLE} (or pass --token)."
        )
    if facts(flags["api"]).org_param is not None and not flags["org_ids"]:
        raise ConfigError(
            f"--api {flags['api']} asks for orgs by id: pass --org-id with an org the token owns."
        )
    live.check_reachable()
    orgs = flags["org_ids"] or (DRIFT_ORG,)
    # A usagemock in open mode lets any token read any org: compare it with the mock in open
    # mode too, or every refusal the fixtures make would show as a difference.
    open_mode = _open_usagemock(live.base_url, flags["api"], token)
    if open_mode:
        click.echo(
            f"{live.label} is a usagemock in open mode (any token reads any org): the mock is "
            "compared in open mode too.",
            err=True,
        )
    scenarios = _scenarios(flags["api"])
    with tempfile.TemporaryDirectory(prefix="usagemock-drift-") as tmp:
        fixtures = Path(tmp) / "access.yaml"
        # JSON is YAML, and keeps any token or org id a plain string.
        fixtures.write_text(json.dumps(drift.mock_fixtures(token, orgs)))
        settings = Settings(api=flags["api"], fixtures=None if open_mode else fixtures)
        app = create_app(throwaway(settings))
        found = drift.compare(
            flags["api"],
            live,
            Target.in_process(app),
            token=token,
            org_ids=orgs,
            scenarios=scenarios,
            samples=flags["samples"],
        )
    click.echo(driftreport.render(found, flags["form"]))
    sys.exit(1 if found.misleading else 0)


def _open_usagemock(base_url: str, api: str, token: str) -> bool:
    """Whether ``base_url`` is a usagemock that says it is in open mode (any token works).

    A usagemock answering 404 there does not serve the API at that URL: every request would
    differ by its 404, so that is a usage error naming where it serves the API.
    """
    from usagemock.kit.authmode import OPEN, elsewhere  # the kit is an extra: imported late
    from usagemock.kit.events import redact

    answer = _sample(base_url, api, token)
    if answer is None:
        return False  # the comparison itself reports a server that does not answer
    mode = answer.headers.get(AUTH_MODE_HEADER)
    if mode is not None and answer.status_code == 404:

        def answer_at(candidate: str) -> tuple[int, str | None] | None:
            found = _sample(candidate, api, token)
            return (
                None if found is None else (found.status_code, found.headers.get(AUTH_MODE_HEADER))
            )

        where = elsewhere(base_url, api, token, answer_at)
        raise ConfigError(
            f"{redact(base_url, token)} is a usagemock, but it answers 404 to GET "
            f"{redact(facts(api).sample_path, token)}: "
            f"{where}"
        )
    return bool(mode == OPEN)


def _sample(base_url: str, api: str, token: str) -> httpx.Response | None:
    """The answer at ``base_url`` to the API's sample request with ``token``, or None."""
    try:
        return httpx.get(
            base_url + facts(api).sample_path,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
        )
    except httpx.HTTPError:
        return None


def _scenarios(api: str) -> list[str]:
    """The bundled scenarios of ``api`` the mock is asked in, to learn its values.

    Those that only delay answers (``slow``) show no value of their own, and cost seconds each.
    """
    from usagemock.scenarios import load_scenarios

    return sorted(
        name
        for name, scenario in load_scenarios().items()
        if api in scenario.apis and "latency_ms" not in scenario.sections[api].get("fault", {})
    )
