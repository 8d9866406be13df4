"""The error body formats the APIs document, each named after its format, not an API.

A renderer turns a status and a one-line detail into (body, media type). Each API definition
names the one its vendor documents; the admin API and the prefix router use RFC 9457 problem
details and a code with a message respectively. Plain functions: the web layer sends what they
render, and the API definitions can name them without importing the web layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

Renderer = Callable[[int, str], tuple[bytes, str]]


def phrase(status: int) -> HTTPStatus:
    """The ``HTTPStatus`` of ``status``; 500 for a status HTTP does not define."""
    try:
        return HTTPStatus(status)
    except ValueError:
        return HTTPStatus.INTERNAL_SERVER_ERROR


def code_and_message(status: int, detail: str) -> tuple[bytes, str]:
    """``{"code": "FORBIDDEN", "message": detail}``: a machine code (the status's name) and text."""
    body = {"code": phrase(status).name, "message": detail}
    return json.dumps(body).encode(), "application/json"


def problem_details(status: int, detail: str) -> tuple[bytes, str]:
    """RFC 9457 problem details (``application/problem+json``) with ``type`` about:blank."""
    body = {
        "type": "about:blank",
        "title": phrase(status).phrase,
        "status": status,
        "detail": detail,
    }
    return json.dumps(body).encode(), "application/problem+json"
