"""``usagemock proxy``: a validating reverse proxy in front of a live server.

Flags -> a :class:`usagemock.kit.watch.Watch` and a :class:`usagemock.kit.proxy.Proxy` served
by uvicorn until SIGINT or SIGTERM -> the JUnit file and a summary -> exit code (0 no violation,
1 a documented or inferred break or a client's bug, 2 usage error).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from usagemock.apis import names
from usagemock.cli import ApiChoice, main
from usagemock.cli.onewrite import OneWriteProtocol
from usagemock.cli.serve import _check_bind
from usagemock.cli.test import org_ids_option, token_option
from usagemock.errors import ConfigError, KitMissing
from usagemock.settings import Settings
from usagemock.specs import TOKEN_VARIABLE

DEFAULT_PORT = 4010  # Prism's: teams coming from `prism proxy` keep their frontend's config


@main.command("proxy")
@click.option("--api", required=True, type=ApiChoice("all"), help="API to check.")
@click.option("--target", required=True, help="Base URL of the real server to forward to.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on (Prism's).",
)
@token_option(
    f"A token the traffic uses that is valid (never printed): turns on the auth checks, "
    f"every other token counting as invalid. [env {TOKEN_VARIABLE}]"
)
@org_ids_option("An org that token owns (repeatable): it must answer 200, others never.")
@click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), help="Append JSON lines here."
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write JUnit XML at shutdown (SIGINT/SIGTERM).",
)
@click.option(
    "--summary",
    type=click.Path(dir_okay=False, path_type=Path),
    help='Append a Markdown summary at shutdown (GitHub: --summary "$GITHUB_STEP_SUMMARY").',
)
@click.option("--errors", is_flag=True, help="Answer 502 problem+json instead of a violation.")
@click.option(
    "--mock-fallback",
    is_flag=True,
    help="Let the mock answer what the upstream does not serve (501, an undocumented 404, down).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the upstream.",
)
@click.option(
    "--clock-skew",
    type=click.FloatRange(0),
    default=300.0,
    show_default=True,
    help="Seconds the server's clock may be off ours before a time rule breaks.",
)
def proxy_command(**flags: Any) -> None:
    """Forward traffic to --target and flag every answer that breaks the contract."""
    try:
        from usagemock.kit import JUnitReport, RunFinished
        from usagemock.kit.proxy import Proxy, ProxyOptions
        from usagemock.kit.summary import MarkdownSummary
        from usagemock.kit.targets import Target
        from usagemock.kit.watch import CLIENT_STAGE, Watch
    except ImportError as exc:  # schemathesis is an extra: `usagemock serve` does not need it
        raise KitMissing(exc.name) from None
    import uvicorn

    target = Target.live(flags["target"], option="--target").base_url
    apis = names() if flags["api"] == "all" else (flags["api"],)
    # The mock's own layout: one API at the root, or each under /<api>.
    mounts = {(f"/{api}" if len(apis) > 1 else ""): api for api in apis}
    handlers: list[Any] = []
    if flags["junit"]:
        handlers.append(JUnitReport(flags["junit"]))
    if flags["summary"]:
        handlers.append(MarkdownSummary(flags["summary"], title="usagemock proxy"))
    for handler in handlers:
        handler.check_writable()  # before serving: not after a whole e2e suite
    report = _open_report(flags["report"])
    _check_bind(Settings(host=flags["host"], port=flags["port"]))
    watch = Watch(
        mounts,
        target,
        token=flags["token"] or os.environ.get(TOKEN_VARIABLE, ""),
        org_ids=flags["org_ids"],
        clock_skew=timedelta(seconds=flags["clock_skew"]),
    )
    options = ProxyOptions(
        target=target,
        timeout=flags["timeout"],
        errors=flags["errors"],
        fallback=_mock(flags["api"]) if flags["mock_fallback"] else None,
    )

    def on_verdict(verdict: Any) -> None:
        for finding in verdict.findings:
            click.echo(finding_line(finding))
            if report is not None:
                report.write(finding_json(finding) + "\n")
                report.flush()

    app = Proxy(options, watch, on_verdict)
    click.echo(
        f"usagemock proxy: http://{flags['host']}:{flags['port']} -> {target} "
        f"({', '.join(apis)}); violations in the X-Usagemock-Violations header. Stop with Ctrl+C."
    )
    config = uvicorn.Config(
        app,
        host=flags["host"],
        port=flags["port"],
        log_level="warning",
        lifespan="on",
        http=OneWriteProtocol,  # a response's head and body in one write, as serve does
        ws="none",
        server_header=False,  # the upstream's Server and Date headers pass through instead
        date_header=False,
    )
    # uvicorn shuts down gracefully on SIGINT or SIGTERM, then raises the signal again for the
    # handler it found: make that handler end the serving, so the reports below get written.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
    if report is not None:
        report.close()
    events = watch.events()
    for event in events:
        for handler in handlers:
            handler.handle(event)
    failed = False
    for event in events:
        if isinstance(event, RunFinished):
            notes = len(event.notes)
            client = sum(1 for f in event.failures if f.stage == CLIENT_STAGE)
            server = len(event.failures) - client
            failed = failed or bool(event.failures)
            click.echo(
                f"usagemock proxy: {event.api}: {event.requests} request(s); {server} server "
                f"violation(s), {client} client bug(s), {notes} note(s)"
            )
    sys.exit(1 if failed else 0)


def finding_line(finding: Any) -> str:
    """One line on stdout per finding: whose, which check, its kind, the request and status."""
    party = "CLIENT" if finding.stage == "client" else "NOTE" if finding.note else "FAIL"
    status = "" if finding.status is None else f" -> {finding.status}"
    first = finding.what_broke.partition("\n")[0].strip()
    return (
        f"{party} {finding.check} ({finding.kind}) {finding.method} {finding.url}{status}: {first}"
    )


def finding_json(finding: Any) -> str:
    """One JSON line per finding, token-free as the finding is."""
    record = dataclasses.asdict(finding)
    del record["seed"]  # watched traffic has none (the watch sets None): nothing replays it
    record["party"] = "client" if finding.stage == "client" else "server"
    record["note"] = finding.note
    return json.dumps(record, ensure_ascii=False)


def _open_report(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"--report {path}: cannot write there ({exc.strerror or type(exc).__name__}); pass "
            "a file path in a directory you can write to."
        ) from None


def _mock(api: str) -> Any:
    """The bundled mock as an ASGI app, laid out as the proxy's mounts (any token works)."""
    from usagemock.cli.test import throwaway
    from usagemock.web.app import create_app

    return create_app(throwaway(Settings(api=api)))
