"""The ``Prefer`` request header (RFC 7240): per-request scenarios and Prism's habits.

Understood preferences: ``scenario=NAME`` (usagemock), ``code=NNN``, ``example=NAME`` and
``dynamic=true|false`` (as in Prism), ``latency=MS`` (usagemock). As RFC 7240 asks, a preference
the mock cannot honour is ignored, never an error: the response says what it applied in
``Preference-Applied`` and what it ignored, and why, in ``X-Usagemock-Ignored``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: The longest value echoed back in ``X-Usagemock-Ignored`` (longer ones are cut with "...").
_SHOWN = 64


@dataclass
class Preferences:
    """What one request asked for, and the mock's answer to each ask."""

    asked: dict[str, str]
    applied: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        """The value asked for ``name``, if any."""
        return self.asked.get(name)

    def apply(self, name: str) -> None:
        """Record that ``name`` was honoured."""
        self.applied.append(f"{name}={self.asked[name]}")

    def ignore(self, name: str, why: str) -> None:
        """Record that ``name`` was not honoured, and why."""
        value = self.asked[name]
        shown = value if len(value) <= _SHOWN else value[: _SHOWN - 3] + "..."
        self.ignored.append(f"{name}={shown} ({why})")

    def headers(self) -> dict[str, str]:
        """Response headers reporting what was applied and ignored."""
        out = {}
        if self.applied:
            out["Preference-Applied"] = ", ".join(self.applied)
        if self.ignored:
            out["X-Usagemock-Ignored"] = "; ".join(self.ignored)
        return out


def number(value: str, most: int) -> int | None:
    """``value`` as a whole number from 0 to ``most`` in ASCII digits, else None."""
    # Bounded by length before int(): Python refuses strings past 4,300 digits with a
    # ValueError, and str.isdigit() also takes digits int() does not ("²").
    if value.isascii() and value.isdigit() and len(value) <= len(str(most)):
        parsed = int(value)
        return parsed if parsed <= most else None
    return None


def parse_prefer(values: Iterable[str]) -> Preferences:
    """Parse every ``Prefer`` header value: ``a=b, c="d"; param`` (parameters are ignored)."""
    asked: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            token = item.split(";", 1)[0].strip()
            if not token:
                continue
            name, _, raw = token.partition("=")
            asked.setdefault(name.strip().lower(), raw.strip().strip('"'))
    return Preferences(asked)
