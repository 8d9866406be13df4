"""pytest plugin (entry point ``pytest11``): the mock as fixtures, and the contract suite on a URL.

- ``usagemock_server``: a real ``usagemock serve`` on a free loopback port, one per test;
  ``@pytest.mark.usagemock(...)`` picks ``scenario``, ``api``, ``seed``, ``fixtures``, ``now``.
- ``usagemock_app``: the same mock as an in-process ASGI app (for httpx's ``ASGITransport``).
- ``pytest --usagemock-url URL --usagemock-api NAME``: adds one contract test per API, run by the
  kit against that URL (token from ``--usagemock-token`` or ``USAGEMOCK_TOKEN``).

Every pytest run loads this module, so it imports only pytest and the standard library at the
top; the mock and the kit are imported inside the fixtures and the test that need them.
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from usagemock.ownapis import REGISTER_VARIABLE, named, register_apis
from usagemock.testing import free_port, wait_listening

MARKER = "usagemock"
CONTRACT_MARKER = "usagemock_contract"
START_TIMEOUT = 20.0  # seconds for `usagemock serve` to listen; start-up takes about one


@dataclass(frozen=True)
class MockServer:
    """A running ``usagemock serve``: where it listens and what it serves."""

    url: str
    port: int
    api: str
    process: subprocess.Popen[str]

    def base_url(self, api: str) -> str:
        """The base URL of ``api`` on this server (``/<api>`` when it serves them all)."""
        return self.url if self.api == api else f"{self.url}/{api}"


def pytest_addoption(parser: pytest.Parser) -> None:
    """The contract-suite options."""
    group = parser.getgroup("usagemock", "usagemock contract tests")
    group.addoption(
        "--usagemock-register",
        action="append",
        default=[],
        metavar="MODULE:ATTRIBUTE",
        help="Add your own API (its ApiFacts, e.g. my_seats:FACTS) to the fixtures and the "
        "contract suite; repeatable. Default: USAGEMOCK_REGISTER, comma-separated.",
    )
    group.addoption("--usagemock-url", help="Run the usagemock contract suite against this URL.")
    group.addoption(
        "--usagemock-api",
        action="append",
        help="API served at --usagemock-url (repeatable only when it serves them all at /<api>).",
    )
    group.addoption("--usagemock-token", help="Bearer token; default: USAGEMOCK_TOKEN.")
    group.addoption(
        "--usagemock-org-id", action="append", default=[], help="An org the token owns."
    )
    group.addoption("--usagemock-seed", type=int, default=0, help="Seed of the contract run.")
    group.addoption(
        "--usagemock-max-examples", type=_at_least_one, help="Generated cases per phase."
    )
    group.addoption(
        "--usagemock-strict",
        action="store_true",
        help="Fail on notes too (the server chose otherwise than the mock's assumptions).",
    )


def _at_least_one(text: str) -> int:
    """A whole number of 1 or more (0 would silently mean the default)."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return number


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers, so ``--strict-markers`` knows them."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(scenario=None, api='all', seed=0, fixtures=None, now=None): "
        "how the usagemock_server and usagemock_app fixtures build the mock",
    )
    config.addinivalue_line(
        "markers", f"{CONTRACT_MARKER}: a contract test added by --usagemock-url"
    )
    registered, source = _registered(config)
    if registered:
        from usagemock.apis import names, unregister
        from usagemock.errors import ConfigError

        before = names()
        try:
            register_apis(registered, source)
        except ConfigError as exc:
            raise pytest.UsageError(f"usagemock: {exc}") from None
        for name in names():
            if name not in before:  # a run in-process (pytester) leaves the host's registry
                config.add_cleanup(functools.partial(unregister, name))


def _registered(config: pytest.Config) -> tuple[tuple[str, ...], str]:
    """The users' APIs to register, and where they were named.

    ``--usagemock-register``, else ``USAGEMOCK_REGISTER``.
    """
    return named(config.getoption("usagemock_register"), "--usagemock-register", os.environ)


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker else {}
    unknown = set(options) - {"scenario", "api", "seed", "fixtures", "now"}
    if unknown:
        raise pytest.UsageError(f"usagemock: unknown marker argument(s): {sorted(unknown)}")
    return options


@pytest.fixture
def usagemock_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MockServer]:
    """A real mock on a free loopback port, configured by the ``usagemock`` marker."""
    options = _options(request)
    port = free_port()
    args = [sys.executable, "-m", "usagemock", "serve", "--port", str(port), "--no-access-log"]
    for name in ("api", "seed", "fixtures", "now", "scenario"):
        if options.get(name) is not None:  # what the marker leaves out keeps its default
            args += [f"--{name}", str(options[name])]
    registered, _ = _registered(request.config)
    env = dict(os.environ)
    if registered:  # the users' APIs, importable from where pytest was run (serve's folder is not)
        env[REGISTER_VARIABLE] = ",".join(registered)
        here = str(request.config.invocation_params.dir)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    # Its own working directory: a mock that keeps state in a file keeps it there, not in ours.
    workdir = tmp_path_factory.mktemp("usagemock-server")
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=workdir, env=env
    )
    try:
        _wait_listening(process, port)
        yield MockServer(f"http://127.0.0.1:{port}", port, options.get("api", "all"), process)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only a hung server gets here
            process.kill()
            process.communicate()


def _wait_listening(process: subprocess.Popen[str], port: int) -> None:
    if wait_listening(port, timeout=START_TIMEOUT, alive=lambda: process.poll() is None):
        return
    process.kill()
    _, err = process.communicate(timeout=10)
    last = (err.strip().splitlines() or ["(nothing on stderr)"])[-1]
    pytest.fail(f"usagemock: the mock did not start on port {port}: {last}", pytrace=False)


@pytest.fixture
def usagemock_app(request: pytest.FixtureRequest) -> Any:
    """The mock as an in-process ASGI app, configured by the ``usagemock`` marker."""
    from usagemock.cli.test import throwaway
    from usagemock.settings import build_settings
    from usagemock.web.app import create_app

    options = _options(request)
    options.setdefault("api", "all")
    return create_app(throwaway(build_settings({}, options)))


@pytest.hookimpl(tryfirst=True)  # add the items before -m selects among them
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """With ``--usagemock-url``, add one contract test per API (``-m usagemock_contract`` alone)."""
    url = config.getoption("usagemock_url")
    if url is None:  # given, even as "": an unset variable must not silently test nothing
        return
    from usagemock.apis import names
    from usagemock.errors import KitMissing

    _refuse_blank_options(config)
    apis = config.getoption("usagemock_api")
    unknown = [api for api in apis or () if api not in names()]
    if not apis or unknown:
        given = f" (not {', '.join(unknown)})" if unknown else ""
        raise pytest.UsageError(
            f"usagemock: --usagemock-url needs --usagemock-api {'|'.join(names())}{given}"
        )

    try:
        from usagemock import kit
    except ImportError as exc:
        raise pytest.UsageError(f"usagemock: {KitMissing(exc.name)}") from None
    try:
        url = kit.Target.live(url, option="--usagemock-url").base_url
    except kit.TargetError as exc:
        raise pytest.UsageError(f"usagemock: {exc}") from None
    added: list[pytest.Item] = []
    for api in apis:
        base = url + (f"/{api}" if len(apis) > 1 else "")
        item = ContractItem.from_parent(session, name=f"usagemock contract: {api} at {base}")
        item.configure(api, base)
        added.append(item)
    # Reported as collected, as a file's tests are: "-m usagemock_contract" then says
    # "1 selected", not "0 selected" before running one.
    session.ihook.pytest_collectreport(
        report=pytest.CollectReport(session.nodeid, "passed", None, [*added])
    )
    items.extend(added)


def _refuse_blank_options(config: pytest.Config) -> None:
    """Stop the run on an empty or blank string option (an unset variable, most often).

    Left to the run, a blank org id or token fails later with a message about something else.
    """
    from usagemock.apis import names
    from usagemock.cli.test import non_blank
    from usagemock.errors import ConfigError
    from usagemock.specs import TOKEN_VARIABLE

    token = config.getoption("usagemock_token")
    try:
        apis = tuple(config.getoption("usagemock_api") or ())
        non_blank(apis, "--usagemock-api", f"pass {' or '.join(names())}")
        non_blank(tuple(config.getoption("usagemock_org_id")), "--usagemock-org-id")
        non_blank(
            () if token is None else (token,),
            "--usagemock-token",
            f"pass the bearer token, or leave the option out to use {TOKEN_VARIABLE}",
        )
    except ConfigError as exc:
        raise pytest.UsageError(f"usagemock: {exc}") from None


class ContractFailed(Exception):
    """The kit found broken checks; the message is its report."""


class ContractItem(pytest.Item):
    """One API's contract run against a URL, as a pytest test."""

    api = ""
    base_url = ""

    def configure(self, api: str, base_url: str) -> None:
        """Aim this test at ``api`` served at ``base_url``."""
        self.api, self.base_url = api, base_url
        self.add_marker(CONTRACT_MARKER)

    def runtest(self) -> None:
        """Run the kit; fail with its terminal report when any check broke."""
        from usagemock import kit
        from usagemock.specs import TOKEN_VARIABLE

        option = self.config.getoption
        token = option("usagemock_token") or os.environ.get(TOKEN_VARIABLE)
        if not token:
            raise pytest.UsageError(f"usagemock: set {TOKEN_VARIABLE} (or --usagemock-token)")
        target = kit.Target.live(self.base_url, option="--usagemock-url")
        target.check_reachable()
        plan = kit.Plan(
            api=self.api,
            target=target,
            token=token,
            seed=option("usagemock_seed"),
            org_ids=tuple(option("usagemock_org_id")),
            max_examples=option("usagemock_max_examples") or kit.DEFAULT_MAX_EXAMPLES,
            strict=option("usagemock_strict"),
        )
        out = io.StringIO()
        report = kit.TerminalReport(lambda line: print(line, file=out))
        passed = True
        for event in kit.run(plan):
            report.handle(event)
            if isinstance(event, kit.RunFinished):
                passed = event.passed
        if not passed:
            raise ContractFailed(out.getvalue())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The kit's report, not a traceback into it."""
        error = excinfo.value
        if isinstance(error, ContractFailed) or type(error).__module__.startswith("usagemock."):
            return str(error)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        """Where pytest says this test lives."""
        return self.base_url, None, self.name
