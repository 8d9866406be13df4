"""Settings: defaults < USAGEMOCK_* environment < CLI flags, errors that read as sentences."""

from __future__ import annotations

import pytest

from tests.conftest import ACCESS_FIXTURES
from usagemock.errors import ConfigError
from usagemock.settings import Settings, build_settings


def test_defaults_bind_loopback_port_8000() -> None:
    """With nothing set, the mock binds 127.0.0.1:8000, serves every API and seeds with 0."""
    settings = build_settings({}, {})
    assert settings == Settings()
    assert (settings.host, settings.port, settings.api, settings.seed) == (
        "127.0.0.1",
        8000,
        "all",
        0,
    )
    assert settings.loopback


def test_flags_beat_environment_beat_defaults() -> None:
    """A flag overrides its environment variable, which overrides the default."""
    env = {"USAGEMOCK_PORT": "9000", "USAGEMOCK_SEED": "5", "USAGEMOCK_API": "kenbun"}
    settings = build_settings(env, {"port": "9100", "seed": None})
    assert (settings.port, settings.seed, settings.api) == (9100, 5, "kenbun")


def test_fixtures_path_is_checked() -> None:
    """A fixtures path must name an existing file."""
    assert build_settings({}, {"fixtures": str(ACCESS_FIXTURES)}).fixtures == ACCESS_FIXTURES
    with pytest.raises(ConfigError, match="no such file"):
        build_settings({}, {"fixtures": "missing.yaml"})


@pytest.mark.parametrize(
    ("environ", "flags", "message"),
    [
        ({"USAGEMOCK_PORT": "http"}, {}, "Environment variable USAGEMOCK_PORT is 'http'"),
        ({}, {"port": "70000"}, "Option --port is '70000', not a port number"),
        ({}, {"api": "stripe"}, "use one of: all, timbal, kenbun"),
        ({}, {"seed": "1.5"}, "not a whole number"),
        ({"USAGEMOCK_VALIDATE_RESPONSES": "maybe"}, {}, "use true or false"),
        ({}, {"host": " "}, "is empty"),
        ({}, {"fixtures": "/"}, r"Option --fixtures is '/', which is a folder; name the file\."),
        ({}, {"scenarios": str(ACCESS_FIXTURES)}, r"which is a file; name the folder holding"),
    ],
)
def test_bad_values_name_the_source_and_the_fix(environ: dict, flags: dict, message: str) -> None:
    """Each bad value raises a ConfigError naming where it came from and what to use."""
    with pytest.raises(ConfigError, match=message):
        build_settings(environ, flags)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False)],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    """Only loopback addresses count as local (the admin API will depend on it)."""
    assert Settings(host=host).loopback is loopback


def test_an_empty_variable_counts_as_unset() -> None:
    """`USAGEMOCK_SEED=` (as compose files write it) leaves the default in place."""
    env = {"USAGEMOCK_SEED": "", "USAGEMOCK_PORT": " ", "USAGEMOCK_ACCESS_LOG": ""}
    assert build_settings(env, {}) == Settings()


def test_an_empty_admin_token_is_refused_not_ignored() -> None:
    """An empty admin token is a secret that failed to arrive, so it stops the server."""
    with pytest.raises(ConfigError, match="USAGEMOCK_ADMIN_TOKEN is empty"):
        build_settings({"USAGEMOCK_ADMIN_TOKEN": ""}, {})


def test_admin_cors_origins_from_the_variable_and_the_flag() -> None:
    """`USAGEMOCK_ADMIN_CORS` is comma-separated; origins are kept as browsers write them."""
    env = {"USAGEMOCK_ADMIN_CORS": "http://localhost:3000, HTTPS://App.Example:443/"}
    assert build_settings(env, {}).admin_cors == ("http://localhost:3000", "https://app.example")
    assert build_settings(env, {"admin_cors": "http://a.test"}).admin_cors == ("http://a.test",)
    assert build_settings({}, {}).admin_cors == ()


@pytest.mark.parametrize("value", ["*", "localhost:3000", "http://a.test/app", "null", "ftp://a"])
def test_admin_cors_takes_only_origins(value: str) -> None:
    """A wildcard, a bare host, a path or another scheme is refused with the form to use."""
    with pytest.raises(ConfigError, match="not an origin; name each page's origin"):
        build_settings({}, {"admin_cors": value})


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59Z",
        "0999-12-31T23:59:59Z",
        "9000-01-01T00:00Z",
    ],
)
@pytest.mark.parametrize("source", ["flag", "variable"])
def test_now_outside_the_calendar_is_refused_with_the_bounds(moment: str, source: str) -> None:
    """A --now (or USAGEMOCK_NOW) the mock's calendar cannot hold is a one-line error naming it."""
    environ, flags = ({}, {"now": moment}) if source == "flag" else ({"USAGEMOCK_NOW": moment}, {})
    with pytest.raises(
        ConfigError, match="outside the mock's calendar; use a moment in years 1000"
    ):
        build_settings(environ, flags)


@pytest.mark.parametrize("moment", ["1000-01-01T00:00:00+01:00", "8999-12-31T23:59:59-12:00"])
def test_now_at_the_calendar_edges_is_accepted(moment: str) -> None:
    """The first and last moments of the calendar, with any zone, are valid --now values."""
    assert build_settings({}, {"now": moment}).now is not None
