"""The token is masked where it is the credential and where it stands as a word; nothing else moves.

The replay commands put ``$USAGEMOCK_TOKEN`` where the token was, so a real shell runs exactly
the request the kit sent, and the secret is never printed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.kit.broken_servers import TOKEN, kenbun_app
from tests.kit.conftest import run_kit
from tests.kit.test_report import render
from usagemock.kit.events import MASK, redact, whole_word
from usagemock.kit.replay import curl, shell_word
from usagemock.specs import TOKEN_VARIABLE as VARIABLE

#: What a bearer token is made of (RFC 6750 b64token), lower case so that a token is never
#: part of the variable's own name in the replay command.
TOKENS = st.text(alphabet="abcdefxyz0189-._~+/=", min_size=1, max_size=10)
#: Any text a message, body, header or URL may carry (a shell word cannot hold NUL).
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40
)
#: Any token at all, for the properties of masking that must hold whatever the token is.
ANY_TOKEN = TOKENS | TEXT.filter(bool)


def shell_argv(command: str, token: str) -> list[str]:
    """The arguments ``command`` passes to curl when a real shell runs it with the token set."""
    script = 'curl() { printf "%s\\0" "$@"; }\n' + command
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        env={"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8", VARIABLE: token},
        timeout=10,
        check=True,
    )
    return result.stdout.decode("utf-8").split("\0")[:-1]


def test_a_short_token_inside_a_word_is_left_alone() -> None:
    """The token ``x`` does not turn "exceeds" into "e***ceeds"; "x" on its own is masked."""
    assert redact("monthly_events exceeds free_tier_limit", "x") == (
        "monthly_events exceeds free_tier_limit"
    )
    assert redact('token x, "x"', "x") == f'token {MASK}, "{MASK}"'
    assert redact("key=0=0=", "0=") == f"key={MASK}{MASK}"  # back to back, still the token


def test_the_curl_calls_the_org_it_called() -> None:
    """Token ``demo`` leaves org ``org_demo`` in the URL, and the header holds the variable."""
    line = curl(
        "GET",
        "http://127.0.0.1:8000/timbal/orgs/org_demo/billing/overage",
        {"Authorization": "Bearer demo"},
        "demo",
    )
    assert line == (
        'curl -X GET -H "Authorization: Bearer $USAGEMOCK_TOKEN" '
        "http://127.0.0.1:8000/timbal/orgs/org_demo/billing/overage"
    )


def test_an_org_id_equal_to_the_token_is_replayed_through_the_variable() -> None:
    """A URL segment that is the token becomes ``$USAGEMOCK_TOKEN``: hidden, and still exact."""
    line = curl("GET", "http://h/orgs/demo/billing", {"Authorization": "Bearer demo"}, "demo")
    assert line.endswith(' "http://h/orgs/$USAGEMOCK_TOKEN/billing"')
    assert shell_argv(line, "demo")[-1] == "http://h/orgs/demo/billing"


@settings(max_examples=300)
@given(text=TEXT, token=ANY_TOKEN)
def test_masking_never_changes_text_without_the_token_as_a_word(text: str, token: str) -> None:
    """Text in which the token is not a word of its own comes out of masking unchanged."""
    if whole_word(token).search(text) is None:
        assert redact(text, token) == text
    else:
        assert redact(text, token) != text


@settings(max_examples=300)
@given(before=TEXT, after=TEXT, token=ANY_TOKEN)
def test_the_token_as_a_word_never_survives_masking(before: str, after: str, token: str) -> None:
    """Wherever it stands as a word, even next to punctuation or quotes, the token is masked."""
    assume("*" not in token)  # a token made of the mask's own characters is left to the mask
    text = f"{before} {token}, '{token}' ({token}){after}"
    masked = redact(text, token)
    assert whole_word(token).search(masked) is None
    assert masked.count(MASK) >= 3


@settings(max_examples=40, deadline=None)
@given(
    token=ANY_TOKEN,
    glued=TEXT,
    header=TEXT,
    path=st.lists(st.sampled_from(["org_", "{t}", "/", "-", "%20", "x", "!", "$", '"', "`"])),
)
def test_the_curl_replays_exactly_and_never_shows_the_credential(
    token: str, glued: str, header: str, path: list[str]
) -> None:
    """Run by a shell, the curl sends the same headers and URL; the credential is a variable."""
    assume(token not in VARIABLE and "\0" not in token)
    url = "http://h/" + "".join(path).replace("{t}", token)
    headers = {"Authorization": f"Bearer {token}{glued}", "X-Other": header}
    line = curl("GET", url, headers, token)
    argv = shell_argv(line, token)
    assert argv == ["-X", "GET", "-H", f"Authorization: {headers['Authorization']}",
                    "-H", f"X-Other: {header}", url]  # fmt: skip
    if re.fullmatch("[a-z0-9._~+/=-]+", token):  # a bearer token, never part of curl's own words
        assert re.search(r'-H "Authorization: Bearer \$\{?USAGEMOCK_TOKEN\b', line)
        assert whole_word(token).search(line) is None


@given(text=TEXT)
def test_a_word_without_the_token_is_quoted_as_before(text: str) -> None:
    """Without the token in it, a word is shlex-quoted: the output other replays already use."""
    assert shell_word(text, "") == shlex.quote(text)


def test_the_config_echo_masks_an_org_id_that_is_the_token() -> None:
    """The run's header line masks the token even where the reader named it as an org id."""
    events = run_kit("kenbun", kenbun_app(), org_ids=(TOKEN, "org_kit"), samples=1, max_examples=2)
    text = render(events)
    assert f"(orgs: {MASK}, org_kit)" in text
    assert TOKEN not in text
