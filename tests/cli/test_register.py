"""`usagemock --register MODULE:ATTRIBUTE` (or `USAGEMOCK_REGISTER`): your own API, no script."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from tests.conftest import REPO
from tests.test_workers import serving, written_bytes
from tests.thirdapi.seats import NAME
from usagemock import apis
from usagemock.cli import main
from usagemock.testing import wait_until

SEATS = "tests.thirdapi.seats:FACTS"
# What a user's module holds: their facts (here the test-only Seats API's, under another name).
USER_MODULE = "my_seats"
USER_SOURCE = "from tests.thirdapi.seats import FACTS\n"
BATCH = 100  # requests per round, each on a new connection, so both workers accept some
WORKERS_TIMEOUT = 20.0  # seconds for both workers to have answered
KIT_BUDGET = ("--max-examples", "1", "--samples", "1", "--seed", "1")
UNREACHABLE = "http://127.0.0.1:9"  # nothing listens on the discard port
TEST_SEATS = ("test", "--api", NAME, "--base-url", UNREACHABLE, "--token", "t")


@pytest.fixture(autouse=True)
def forget_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts without the user's API, and leaves sys.path and the registry as found."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("USAGEMOCK_REGISTER", raising=False)
    yield
    if NAME in apis.names():
        apis.unregister(NAME)
    for module in [m for m in sys.modules if m.startswith((USER_MODULE, "broken_"))]:
        del sys.modules[module]


def _usagemock(*args: str, env: dict[str, str] | None = None) -> Result:
    """The command line, in this process (what it registers, this process's registry gets)."""
    return CliRunner().invoke(main, list(args), env=env)


def _refused(result: Result) -> str:
    """The one line a refusal prints; fails unless it is one line, exit 2, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("usagemock: error: "), result.stderr
    return lines[0]


def _accepted(result: Result) -> None:
    """A command got past its options (``--api seats`` is registered) to reaching the URL."""
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"usagemock: error: Cannot reach {UNREACHABLE}"), result.output


@pytest.mark.parametrize(
    "command",
    [
        TEST_SEATS,
        ("drift", "--api", NAME, "--target", UNREACHABLE, "--token", "t", "--org-id", "o"),
    ],
    ids=["test", "drift"],
)
def test_the_option_adds_the_api_to_a_command(command: tuple[str, ...]) -> None:
    """``usagemock --register ... <command> --api seats`` takes the API (without: not a choice)."""
    refused = _usagemock(*command)
    assert "Invalid value for '--api': 'seats' is not one of" in refused.output
    _accepted(_usagemock("--register", SEATS, *command))


def test_the_variable_adds_the_api_blank_parts_ignored() -> None:
    """``USAGEMOCK_REGISTER`` does what the option does (comma-separated, blanks as unset)."""
    _accepted(_usagemock(*TEST_SEATS, env={"USAGEMOCK_REGISTER": f" ,{SEATS},"}))


def test_the_option_wins_over_the_variable() -> None:
    """A flag overrides the environment, as every setting's does: a bad variable goes unread."""
    env = {"USAGEMOCK_REGISTER": "nothing_here:FACTS"}
    _accepted(_usagemock("--register", SEATS, *TEST_SEATS, env=env))


def test_the_current_directory_is_importable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module in the folder usagemock runs in is found, as ``python -m`` would find it."""
    (tmp_path / f"{USER_MODULE}.py").write_text(USER_SOURCE)
    monkeypatch.chdir(tmp_path)
    assert str(tmp_path) not in sys.path  # as under the console script, which adds bin/ only
    _accepted(_usagemock("--register", f"{USER_MODULE}:FACTS", *TEST_SEATS))


def test_registering_what_is_registered_already_changes_nothing() -> None:
    """The very facts a script registers may be named again (a script run with the variable)."""
    kenbun = "usagemock.apis.kenbun.facts:FACTS"  # registered already, as a script's would be
    result = _usagemock("--register", kenbun, "lint", str(REPO / "specs" / "kenbun.yaml"))
    assert result.exit_code == 0, result.output
    assert apis.names().count("kenbun") == 1


@pytest.mark.parametrize(
    ("named", "says"),
    [
        (
            "tests.thirdapi.seats",
            "is 'tests.thirdapi.seats'; name your API's facts as module:attribute",
        ),
        (":FACTS", "name your API's facts as module:attribute, e.g. my_seats:FACTS"),
        ("nothing_here:FACTS", "there is no module nothing_here here; run usagemock in the folder"),
        ("tests.thirdapi.nothing:FACTS", "there is no module tests.thirdapi.nothing here"),
        (
            "tests.thirdapi.seats:NOPE",
            "module tests.thirdapi.seats has no NOPE; name tests.thirdapi.seats:FACTS",
        ),
        (
            "tests.thirdapi.seats:DEFINITION",
            "DEFINITION is a SeatsDefinition, not an ApiFacts; name tests.thirdapi.seats:FACTS",
        ),
        (
            "usagemock.errors:ConfigError",
            "ConfigError is a type, not an ApiFacts; name an ApiFacts, e.g.",
        ),
    ],
)
def test_a_name_that_is_no_apifacts_is_refused_in_one_line(named: str, says: str) -> None:
    """Every way ``MODULE:ATTRIBUTE`` can miss the facts is one line naming it, and the fix."""
    line = _refused(_usagemock("--register", named, "test", "--api", NAME))
    assert line.startswith("usagemock: error: Option --register "), line
    assert says in line, line


BROKEN_MODULES = {
    "broken_import": (
        "import not_installed_anywhere\n",
        "ModuleNotFoundError: No module named 'not_installed_anywhere'",
    ),
    "broken_syntax": ("def (:\n", "SyntaxError: invalid syntax (broken_syntax.py, line 1)"),
    "broken_raises": (
        "raise RuntimeError('no seats today\\nsecond line')\n",
        "RuntimeError: no seats today (",
    ),
}


@pytest.mark.parametrize("module", sorted(BROKEN_MODULES))
def test_a_module_that_fails_to_import_is_named_with_its_first_error_line(
    module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error inside the user's module: its name, the error's first line, how to see more."""
    source, says = BROKEN_MODULES[module]
    (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    line = _refused(_usagemock("--register", f"{module}:FACTS", "test", "--api", NAME))
    assert f"importing {module} failed: {says}" in line, line
    assert f"python -c 'import {module}' shows where" in line, line


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("timbal", "An API named 'timbal' is registered already; pick another name."),
        ("all", "An API may not be named 'all'"),
        ("admin", "An API may not be named 'admin'"),
    ],
)
def test_a_name_taken_or_reserved_is_refused_in_one_line(
    name: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Facts named like a bundled API or a reserved word: one line from the variable, its fix."""
    source = f"import dataclasses\n{USER_SOURCE}FACTS = dataclasses.replace(FACTS, name={name!r})\n"
    (tmp_path / f"{USER_MODULE}.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    line = _refused(
        _usagemock("test", "--api", "kenbun", env={"USAGEMOCK_REGISTER": f"{USER_MODULE}:FACTS"})
    )
    assert line.startswith(
        f"usagemock: error: Environment variable USAGEMOCK_REGISTER '{USER_MODULE}:FACTS': "
    ), line
    assert says in line, line


@pytest.mark.e2e
def test_serve_with_two_workers_answers_it_from_both_and_the_kit_passes_it(
    tmp_path: Path,
) -> None:
    """``usagemock --register ... serve --workers 2``: every worker registers it and answers.

    A worker that did not register it would serve the bundled APIs only: 404 under /seats/.
    Requests go in batches until both workers have answered some (one may start later).
    """
    register = ("--register", SEATS)
    statuses: list[int] = []
    with serving(tmp_path, tmp_path / "state.sqlite3", "--workers", "2", before=register) as server:
        workers = server.workers()
        written = written_bytes(workers)
        url = f"{server.url}/{NAME}/orgs/org_a/seats"

        def both_answered() -> bool:
            statuses.extend(asyncio.run(_get_many(url, BATCH)))
            grew = [p for p, n in written_bytes(workers).items() if n - written.get(p, n) > 2_000]
            return len(grew) == 2 or not written  # /proc unreadable: the statuses must do

        answered = wait_until(both_answered, timeout=WORKERS_TIMEOUT, alive=server.running)
        kit = _usagemock(
            *register,
            *("test", "--api", NAME, "--base-url", f"{server.url}/{NAME}", *KIT_BUDGET),
            env={"USAGEMOCK_TOKEN": "demo"},
        )
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
    assert answered, f"not both of workers {workers} answered in {len(statuses)} requests"
    assert kit.exit_code == 0, kit.output
    assert f"{NAME}: PASSED" in kit.stdout


async def _get_many(url: str, count: int) -> list[int]:
    """GET ``url`` ``count`` times, 20 at a time, each on a new connection; the statuses."""
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=0)
    headers = {"Authorization": "Bearer demo"}
    async with httpx.AsyncClient(timeout=10, limits=limits, headers=headers) as client:
        responses = await asyncio.gather(*(client.get(url) for _ in range(count)))
    return [response.status_code for response in responses]
