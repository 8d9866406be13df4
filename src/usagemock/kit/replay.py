"""Shell commands that replay what the kit did, with ``$USAGEMOCK_TOKEN`` where the token was.

The variable, not a mask: a reader pastes the command into a shell that has the token set (as
the run had), and the shell sends exactly the request the kit sent, even when an org id or a
header holds the token as a word. The secret itself is never printed.
"""

from __future__ import annotations

import re
import shlex

from usagemock.kit.events import replace_words
from usagemock.specs import TOKEN_VARIABLE

#: The environment variable the token is read from, and replayed through.
#: Headers every HTTP client adds; a curl to reproduce leaves them out. ``host`` too: curl
#: names the URL's host, as the request did (a proxied request's ``Host`` named the proxy).
_CLIENT_HEADERS = frozenset(
    {"user-agent", "accept-encoding", "accept", "connection", "content-length", "host"}
    | {"x-schemathesis-testcaseid"}
)
#: Where the token was, while a word is built: a non-word character no header or URL holds.
_MARK = "\0"
#: Characters a backslash must protect inside double quotes (POSIX shell).
_ESCAPED = re.compile(r'([\\"$`])')


def shell_word(text: str, token: str, *, credential_from: int | None = None) -> str:
    """``text`` as one shell word with ``token`` replaced by ``$USAGEMOCK_TOKEN``.

    The token is replaced where it stands as a word, and, from ``credential_from`` on (the
    credentials of an Authorization header), wherever it occurs. Without any, the word is
    ``shlex.quote``'d as usual.
    """
    cut = len(text) if credential_from is None else credential_from
    head, tail = text[:cut], text[cut:]
    marked = replace_words(head, token, _MARK) + (tail.replace(token, _MARK) if token else tail)
    if _MARK not in marked:
        return shlex.quote(text)
    pieces = marked.split(_MARK)
    quoted = [_literal(pieces[0])]
    for piece in pieces[1:]:
        # ``$USAGEMOCK_TOKENabc`` would name another variable: braces end the name.
        braced = piece[:1].isalnum() or piece[:1] == "_"
        quoted += [f"${{{TOKEN_VARIABLE}}}" if braced else f"${TOKEN_VARIABLE}", _literal(piece)]
    return '"' + "".join(quoted) + '"'


def _literal(text: str) -> str:
    # An interactive bash expands ``!`` even inside double quotes; only single quotes stop it.
    return _ESCAPED.sub(r"\\\1", text).replace("!", "\"'!'\"")


def curl(method: str, url: str, headers: dict[str, str], token: str) -> str:
    """A curl command replaying a request; the token is ``$USAGEMOCK_TOKEN`` wherever it shows."""
    parts = ["curl", "-X", method]
    for name, value in headers.items():
        if name.lower() in _CLIENT_HEADERS:
            continue
        line = f"{name}: {value}"
        credential_from = None
        if name.lower() == "authorization":
            credentials = value.partition(" ")[2]
            credential_from = len(line) - len(credentials) if credentials else len(name) + 2
        parts += ["-H", shell_word(line, token, credential_from=credential_from)]
    parts.append(shell_word(url, token))
    return " ".join(parts)
