"""What a scenario promises about a response, checked on any server that runs that scenario.

An expectation maps a body field to a condition: a literal (must equal), or one comparison such
as ``{">": "$free_tier_limit"}`` (``$name`` refers to another field of the same body, anything
else is a literal). The special key ``status`` is the status a request with a valid token for
a known org gets. Scenario files carry them under ``expect:``; the CLI hands them over as data,
so the kit never imports the mock.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

Expectation = Mapping[str, Any]

_COMPARE: Mapping[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
STATUS = "status"


def unmet(expect: Expectation, body: Mapping[str, Any]) -> list[str]:
    """Each condition of ``expect`` (``status`` aside) that ``body`` does not meet, as a line."""
    lines = []
    for field, condition in expect.items():
        if field == STATUS:
            continue
        actual = body.get(field)
        op, operand = (
            next(iter(condition.items())) if isinstance(condition, Mapping) else ("==", condition)
        )
        wanted = (
            body.get(operand[1:]) if isinstance(operand, str) and operand[:1] == "$" else (operand)
        )
        try:
            held = _COMPARE[op](actual, wanted)
        except TypeError:  # e.g. None > 5: the field is not what the scenario promises
            held = False
        if not held:
            shown = f"{operand} ({wanted!r})" if wanted is not operand else repr(wanted)
            lines.append(f"{field} is {actual!r}, expected {op} {shown}")
    return lines


def promised_status(expect: Expectation | None) -> int:
    """The status a valid token asking for a known org gets: 200 unless a scenario says other."""
    return int((expect or {}).get(STATUS, 200))


def operators() -> tuple[str, ...]:
    """The comparisons a condition may use."""
    return tuple(_COMPARE)
