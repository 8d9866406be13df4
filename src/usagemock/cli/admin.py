"""Drive a running mock from scripts and CI: ``usagemock scenario|clock|org|fault ...``.

Each command is one call to the admin API (``/_usagemock``) of the server at ``--url``; the
response is printed as JSON (the clock as one line). Exit 0 on success, 2 when the server is
unreachable or refuses, with its one-line reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import click
import httpx

from usagemock.cli import main
from usagemock.errors import UsageMockError

F = Callable[..., Any]


def _server_options(command: F) -> F:
    """``--url`` and ``--admin-token``, shared by every admin command."""
    command = click.option(
        "--admin-token",
        envvar="USAGEMOCK_ADMIN_TOKEN",
        help="The server's --admin-token. [env USAGEMOCK_ADMIN_TOKEN]",
    )(command)
    return click.option(
        "--url",
        envvar="USAGEMOCK_URL",
        default="http://127.0.0.1:8000",
        show_default=True,
        help="The running mock. [env USAGEMOCK_URL]",
    )(command)


def _org_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An org id as given; an empty one is refused here (the server would answer 404)."""
    if value is not None and not value:
        raise click.BadParameter("is empty; give the org's id (as its API's answers report it).")
    return value


def _api_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An API's name as given; the server checks it against the APIs it serves.

    Not a choice of this process's registry: the server may serve an API registered in its own
    process only (``usagemock.apis.register``), and its refusal names those it has.
    """
    if value is not None and not value:
        raise click.BadParameter("is empty; give the name of an API the server serves.")
    return value


def _api_argument(*, required: bool = True) -> Callable[[F], F]:
    """``API``, the first argument of every command about one org."""
    metavar = "API" if required else "[API]"
    return click.argument("api", metavar=metavar, required=required, callback=_api_name)


def _org_arguments(command: F) -> F:
    """``API ORG_ID``, shared by every command about one org."""
    command = click.argument("org_id", callback=_org_id)(command)
    return _api_argument()(command)


def org_path(api: str, org_id: str, *rest: str) -> str:
    """The admin path of one org, each segment percent-encoded so any org id stays one segment.

    ``?``, ``#``, ``%`` and ``/`` would otherwise end or split the segment, and the client's URL
    normalisation would fold away a segment that is ``.`` or ``..``, so those dots are encoded.
    """
    segments = [quote(part, safe="") for part in (api, org_id, *rest)]
    return "/orgs/" + "/".join(s.replace(".", "%2E") if s in (".", "..") else s for s in segments)


def _call(url: str, token: str | None, method: str, path: str, body: Any = None) -> Any:
    """One admin API call; its JSON answer, or a UsageMockError with the server's reason."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    target = f"{url.rstrip('/')}/_usagemock{path}"
    try:
        response = httpx.request(method, target, json=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise UsageMockError(
            f"Cannot reach the mock at {url} ({exc}); is `usagemock serve` "
            "running there? Pass --url to point elsewhere."
        ) from None
    if response.status_code >= 400:
        hint = ""
        if response.status_code == 401:
            hint = (
                " Pass the server's admin token with --admin-token or USAGEMOCK_ADMIN_TOKEN."
                if not token
                else " The --admin-token (or USAGEMOCK_ADMIN_TOKEN) given is not the server's."
            )
        raise UsageMockError(
            f"{method} {target} answered {response.status_code}: {_reason(response)}{hint}"
        )
    return response.json() if response.content else None


def _reason(response: httpx.Response) -> str:
    """The refusal's detail (problem+json) or message (a code and message), else its text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    said = (body.get("detail") or body.get("message")) if isinstance(body, dict) else None
    return " ".join(str(said or response.text or response.reason_phrase).split())


def _show(data: Any) -> None:
    click.echo(json.dumps(data, indent=2))


def _show_clock(clock: dict[str, Any]) -> None:
    state = "frozen" if clock["frozen"] else f"running, {clock['offset_seconds']:+.0f} s from real"
    click.echo(f"{clock['now']} ({state})")


@main.group()
def scenario() -> None:
    """List scenarios and put orgs into them."""


@scenario.command("list")
@_server_options
def scenario_list(url: str, admin_token: str | None) -> None:
    """One line per scenario: name, APIs, description."""
    for item in _call(url, admin_token, "GET", "/scenarios"):
        click.echo(f"{item['name']:<24} {','.join(item['apis']):<14} {item['description']}")


@scenario.command("apply")
@_org_arguments
@click.argument("name")
@_server_options
def scenario_apply(api: str, org_id: str, name: str, url: str, admin_token: str | None) -> None:
    """Put ORG_ID of API into scenario NAME from now on."""
    _show(_call(url, admin_token, "PUT", org_path(api, org_id, "scenario"), {"name": name}))


@main.group()
def clock() -> None:
    """Read and move the mock's shared clock."""


@clock.command("show")
@_server_options
def clock_show(url: str, admin_token: str | None) -> None:
    """Print the mock's time."""
    _show_clock(_call(url, admin_token, "GET", "/clock"))


@clock.command("set")
@click.argument("moment")
@click.option("--freeze/--run", default=None, help="Also stop the clock there, or let it run.")
@_server_options
def clock_set(moment: str, freeze: bool | None, url: str, admin_token: str | None) -> None:
    """Show MOMENT (ISO 8601, e.g. 2026-03-31T23:00:00Z) from now on."""
    body: dict[str, Any] = {"now": moment} | ({} if freeze is None else {"frozen": freeze})
    _show_clock(_call(url, admin_token, "PUT", "/clock", body))


# A negative duration (``-P1D``) looks like an option to click: taking unknown options as
# arguments lets it through without ``--``, and the server refuses a DURATION that is no duration.
@clock.command("advance", context_settings={"ignore_unknown_options": True})
@click.argument("duration")
@_server_options
def clock_advance(duration: str, url: str, admin_token: str | None) -> None:
    """Move the clock by DURATION (ISO 8601: P1D, PT6H, P1M; -P1D goes back)."""
    _show_clock(_call(url, admin_token, "POST", "/clock/advance", {"by": duration}))


@clock.command("freeze")
@_server_options
def clock_freeze(url: str, admin_token: str | None) -> None:
    """Stop the clock at the moment it shows."""
    _show_clock(_call(url, admin_token, "PUT", "/clock", {"frozen": True}))


@clock.command("resume")
@_server_options
def clock_resume(url: str, admin_token: str | None) -> None:
    """Let a frozen clock run again."""
    _show_clock(_call(url, admin_token, "PUT", "/clock", {"frozen": False}))


@clock.command("reset")
@_server_options
def clock_reset(url: str, admin_token: str | None) -> None:
    """Back to real time, running: undo every set, freeze and advance."""
    _show_clock(_call(url, admin_token, "POST", "/clock/reset"))


@main.group()
def org() -> None:
    """Read, change and reset one org's state."""


@org.command("show")
@_org_arguments
@_server_options
def org_show(api: str, org_id: str, url: str, admin_token: str | None) -> None:
    """Print ORG_ID's state and what its API answers now."""
    _show(_call(url, admin_token, "GET", org_path(api, org_id)))


@org.command("ingest")
@_org_arguments
@click.argument("amount", type=click.IntRange(min=0))
@click.option("--at", help="When (ISO 8601); default: the mock's now.")
@_server_options
def org_ingest(
    api: str, org_id: str, amount: int, at: str | None, url: str, admin_token: str | None
) -> None:
    """Add AMOUNT of usage (whatever API counts: events, credits) to ORG_ID."""
    body: dict[str, Any] = {"amount": amount} | ({"at": at} if at else {})
    _show(_call(url, admin_token, "POST", org_path(api, org_id, "ingest"), body))


@org.command("reset")
@_api_argument(required=False)
@click.argument("org_id", required=False, callback=_org_id)
@click.option("--all", "everything", is_flag=True, help="Reset every org.")
@_server_options
def org_reset(
    api: str | None, org_id: str | None, everything: bool, url: str, admin_token: str | None
) -> None:
    """Forget the changes to ORG_ID of API (or to every org with --all)."""
    one = None if api is None or org_id is None else org_path(api, org_id, "reset")
    if everything == (one is not None):
        raise click.UsageError("Give API and ORG_ID, or --all.")
    if one is None:
        _call(url, admin_token, "DELETE", "/orgs")
    else:
        _call(url, admin_token, "POST", one)
    click.echo("reset")


@main.group()
def fault() -> None:
    """Inject latency and errors into one org's responses."""


@fault.command("set")
@_org_arguments
@click.option("--status", type=int, help="An error status the API documents.")
@click.option("--rate", type=click.FloatRange(0, 1), help="Share of requests that fail.")
@click.option("--latency-ms", type=click.IntRange(0, 60000), help="Fixed delay.")
@click.option("--jitter-ms", type=click.IntRange(0, 60000), help="Extra random delay, up to.")
@_server_options
def fault_set(api: str, org_id: str, url: str, admin_token: str | None, **fault: Any) -> None:
    """Make ORG_ID's responses slow and/or fail."""
    body = {k: v for k, v in fault.items() if v is not None}
    _show(_call(url, admin_token, "PUT", org_path(api, org_id, "fault"), body))


@fault.command("clear")
@_org_arguments
@_server_options
def fault_clear(api: str, org_id: str, url: str, admin_token: str | None) -> None:
    """Remove ORG_ID's fault."""
    _show(_call(url, admin_token, "DELETE", org_path(api, org_id, "fault")))
