"""A base URL is a usable http(s) URL or one line of error: never a traceback, never ignored."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.conftest import Listener
from tests.kit.broken_servers import BROKEN, TOKEN
from tests.kit.conftest import finished
from usagemock.cli import main
from usagemock.kit import Plan, Target, TargetError, run
from usagemock.kit.targets import url_problem

#: Strings shaped like URLs, mostly broken: odd schemes, hosts, ports and tails.
JUNK_URLS = st.one_of(
    st.text(max_size=30),
    st.builds(
        "{}{}{}{}".format,
        st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "http:/", "", "//"]),
        st.sampled_from(["[::1", "[::1]", "127.0.0.1", "exa mple", "", "h\u00fcst", "a" * 70])
        | st.text(max_size=8),
        st.sampled_from(["", ":0", ":65536", ":-1", ":abc", ":8000", ":"]),
        st.sampled_from(["", "/", "/api", "?x=1", "#top", "/\n", "/a b"]) | st.text(max_size=8),
    ),
)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("http://[::1", "is not a URL (Invalid IPv6 URL)"),
        ("ftp://x.test", "not an http(s) URL"),
        ("http://", "has no host"),
        ("http://exa mple.com", "has a space"),
        ("http://x.test:99999", "is not a URL (Port out of range"),
        ("http://x.test:abc", "is not a URL (Port could not be cast"),
        ("http://x.test:0", "has port 0"),
        ("https://x.test/api?key=1", "has a query or fragment"),
    ],
)
def test_a_bad_base_url_is_refused_in_one_sentence(url: str, says: str) -> None:
    """Each kind of bad URL gets a TargetError that quotes it and says what is wrong."""
    with pytest.raises(TargetError) as raised:
        Target.live(url)
    assert says in str(raised.value) and repr(url) in str(raised.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "https://api.example.com/v1/", "http://[::1]:8000/kenbun"]
)
def test_a_good_base_url_is_kept_without_its_trailing_slash(url: str) -> None:
    """Hosts, IPv6 literals, ports and base paths are accepted as given."""
    assert Target.live(url).base_url == url.rstrip("/")


@settings(max_examples=400)
@given(url=JUNK_URLS)
def test_any_string_is_a_usable_url_or_one_line_of_error(url: str) -> None:
    """Whatever the string, the answer is a URL httpx can send to, or a one-line TargetError."""
    try:
        target = Target.live(url)
    except TargetError as exc:
        assert "\n" not in str(exc)
        return
    request = httpx.Request("GET", target.base_url + "/usage")
    assert request.url.scheme in ("http", "https") and request.url.host


@settings(max_examples=40, deadline=None)
@given(url=JUNK_URLS)
def test_usagemock_test_refuses_a_bad_url_with_exit_2_and_one_line(url: str) -> None:
    """``usagemock test --base-url JUNK`` exits 2 with one line on stderr, before any request."""
    assume(url_problem(url) is not None)
    result = CliRunner().invoke(
        main, ["test", "--api", "kenbun", "--base-url", url], env={"USAGEMOCK_TOKEN": "t"}
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("usagemock: error: --base-url ")


def test_an_empty_base_url_never_falls_back_to_the_in_process_mock() -> None:
    """``--base-url ""`` (an unset variable in CI) is a usage error, not a run of the mock."""
    result = CliRunner().invoke(
        main, ["test", "--api", "kenbun", "--base-url", ""], env={"USAGEMOCK_TOKEN": "t"}
    )
    assert result.exit_code == 2
    assert "is empty (an unset variable?)" in result.stderr
    assert "in-process" not in result.output


def test_an_in_process_run_sends_nothing_over_the_network() -> None:
    """Nothing connects to the in-process base URL; findings still show requests at it.

    schemathesis' engine sends its capability probes to an absolute base URL over the network
    even when the schema has an app: to a developer's own ``usagemock serve`` on port 8000, whose
    answers then changed the cases a seed generates.
    """
    listener = Listener()
    base_url = f"http://127.0.0.1:{listener.port}"
    broken = next(b for b in BROKEN if b.api == "kenbun")
    target = Target(base_url, broken.app())
    plan = Plan(api="kenbun", target=target, seed=1, token=TOKEN, max_examples=5)
    try:
        result = finished(list(run(plan)))
    finally:
        listener.close()
    assert listener.connections == 0
    assert result.failures, "the broken server's findings, to see their URLs"
    assert all(finding.url.startswith(base_url + "/") for finding in result.failures)
