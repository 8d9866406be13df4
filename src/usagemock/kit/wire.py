"""Whether a request was valid HTTP at all: what a server's HTTP parser may refuse on its own.

schemathesis' fuzzer can send header values that no HTTP/1.1 parser accepts (control characters,
DEL, text beyond Latin-1), and extra headers whose names happen to be HTTP's own framing fields
(``Content-Length: U|+ tx``, a second ``Host``). A server behind uvicorn (h11 or httptools),
nginx or any gateway then answers 400 before the API sees the request: that is the HTTP layer's
answer, not the API's (and not its auth refusing a credential), so the kit does not judge it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: RFC 9110 section 5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: RFC 9110 section 5.5: field-content is VCHAR and obs-text, with SP and HTAB between.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
#: RFC 9112 section 3.2: a request-target is visible ASCII (anything else is percent-encoded).
_TARGET = re.compile(r"[\x21-\x7e]+")
#: RFC 9110 section 8.6: ``Content-Length = 1*DIGIT``.
_LENGTH = re.compile(r"[0-9]+")
#: RFC 9110 section 7.2: ``Host = uri-host [ ":" port ]`` (RFC 3986: an IP literal or a
#: reg-name of unreserved, percent-encoded and sub-delim characters; the port is digits).
_HOST = re.compile(r"(\[[0-9A-Za-z:.]+\]|[0-9A-Za-z\-._~!$&'()*+,;=%]*)(:[0-9]*)?")


def invalid_http(url: str, headers: Iterable[tuple[str, str]]) -> str | None:
    """Why a request to ``url`` with ``headers`` is not valid HTTP/1.1, or None when it is."""
    fields: dict[str, list[str]] = {}
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            return f"header name {name!r} is not an HTTP token"
        if not _FIELD_VALUE.fullmatch(value):
            return f"header {name} carries a character HTTP forbids in a field value"
        fields.setdefault(name.lower(), []).append(value.strip(" \t"))
    if url and not _TARGET.fullmatch(url):
        return "the request target has a character HTTP forbids (a space or a control character)"
    return _framing_problem(fields)


def _framing_problem(fields: dict[str, list[str]]) -> str | None:
    """Why the header fields that frame a request make it one a server may refuse, if they do.

    RFC 9112 section 6.3: an invalid Content-Length leaves the body's length unknown, and the
    server MUST answer 400; several Content-Length values it "MUST either reject" or merge; a
    Transfer-Encoding the body was not sent in misframes it (and one the server does not
    implement gets 501, or the parser's 400). Section 3.2: a server MUST answer 400 to more
    than one Host or a Host with an invalid value.
    """
    lengths = fields.get("content-length", [])
    if len(lengths) > 1 or any("," in length for length in lengths):
        # a recipient MUST reject these as invalid or merge them itself: its parser's choice
        return "it has more than one Content-Length"
    if lengths and not _LENGTH.fullmatch(lengths[0]):
        return "its Content-Length is not a number of octets"
    if "transfer-encoding" in fields:
        # The kit's client sends every body whole, with its length: never in a transfer coding.
        return "its Transfer-Encoding names a coding its body was not sent in"
    hosts = fields.get("host", [])
    if len(hosts) > 1:
        return "it has more than one Host"
    if hosts and not _HOST.fullmatch(hosts[0]):
        return "its Host is not a host name or address (with an optional port)"
    return None


def refused_by_parser(status: int | None, url: str, headers: Iterable[tuple[str, str]]) -> bool:
    """Whether a 400 answered a request that was not valid HTTP: the parser's, not the API's."""
    return status == 400 and invalid_http(url, headers) is not None
