"""Whether a request was valid HTTP at all: what a server's HTTP parser may refuse on its own.

schemathesis' fuzzer can send header values that no HTTP/1.1 parser accepts (control characters,
DEL, text beyond Latin-1). A server behind uvicorn (h11), nginx or any gateway then answers 400
before the API sees the request: that is the HTTP layer's answer, not the API's, so the kit does
not judge it.
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


def invalid_http(url: str, headers: Iterable[tuple[str, str]]) -> str | None:
    """Why a request to ``url`` with ``headers`` is not valid HTTP/1.1, or None when it is."""
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            return f"header name {name!r} is not an HTTP token"
        if not _FIELD_VALUE.fullmatch(value):
            return f"header {name} carries a character HTTP forbids in a field value"
    if url and not _TARGET.fullmatch(url):
        return "the request target has a character HTTP forbids (a space or a control character)"
    return None


def refused_by_parser(status: int | None, url: str, headers: Iterable[tuple[str, str]]) -> bool:
    """Whether a 400 answered a request that was not valid HTTP: the parser's, not the API's."""
    return status == 400 and invalid_http(url, headers) is not None
