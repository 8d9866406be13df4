"""What the APIs' documents state or imply, written once: the mock keeps it, the kit checks it.

Every rule says where it comes from (:class:`Source`): the vendor's words (**documented**), what
they necessarily imply (**inferred**, with the one line of reasoning), or a choice we made for the
mock (**assumed**). Rules come in three shapes, all on plain JSON so they check any server:

- :class:`Rule`: one decoded 200 body on its own;
- :class:`MomentRule`: one answer against the moment it was asked (give or take clock skew);
- :class:`SeriesRule`: two answers to the same token for the same org, one asked after the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from usagemock.rules.kenbun import KENBUN, KENBUN_MOMENTS, KENBUN_SERIES, KENBUN_STATUSES
from usagemock.rules.shapes import (
    DEFAULT_CLOCK_SKEW,
    KENBUN_DOC,
    TIMBAL_DOC,
    Answer,
    Body,
    Kind,
    MomentRule,
    Rule,
    SeriesRule,
    Source,
    assumed,
    documented,
    inferred,
    instant,
)
from usagemock.rules.timbal import TIMBAL, TIMBAL_MOMENTS, TIMBAL_SERIES

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "KENBUN",
    "KENBUN_DOC",
    "KENBUN_STATUSES",
    "MOMENTS",
    "RULES",
    "SERIES",
    "TIMBAL",
    "TIMBAL_DOC",
    "Answer",
    "Body",
    "Kind",
    "MomentRule",
    "Rule",
    "SeriesRule",
    "Source",
    "assumed",
    "documented",
    "inferred",
    "instant",
    "moment_violations",
    "series_violations",
    "violations",
]

RULES: Mapping[str, tuple[Rule, ...]] = {"timbal": TIMBAL, "kenbun": KENBUN}
MOMENTS: Mapping[str, tuple[MomentRule, ...]] = {"timbal": TIMBAL_MOMENTS, "kenbun": KENBUN_MOMENTS}
SERIES: Mapping[str, tuple[SeriesRule, ...]] = {"timbal": TIMBAL_SERIES, "kenbun": KENBUN_SERIES}


def violations(api: str, body: Body) -> list[str]:
    """Every body rule of ``api`` that ``body`` breaks, as ``rule: what`` lines."""
    return [f"{rule.name}: {what}" for rule in RULES[api] for what in rule(body)]


def moment_violations(api: str, answer: Answer, skew: timedelta = DEFAULT_CLOCK_SKEW) -> list[str]:
    """Every moment rule of ``api`` that ``answer`` breaks, as ``rule: what`` lines."""
    return [f"{rule.name}: {what}" for rule in MOMENTS[api] for what in rule(answer, skew)]


def series_violations(
    api: str, earlier: Answer, later: Answer, skew: timedelta = DEFAULT_CLOCK_SKEW
) -> list[str]:
    """Every series rule of ``api`` that the pair breaks, as ``rule: what`` lines."""
    return [f"{rule.name}: {what}" for rule in SERIES[api] for what in rule(earlier, later, skew)]
