"""What the APIs' documents state or imply, written once: the mock keeps it, the kit checks it.

Every rule says where it comes from (:class:`Source`): the vendor's words (**documented**), what
they necessarily imply (**inferred**, with the one line of reasoning), or a choice we made for the
mock (**assumed**). Each API's rules live in its definition (``usagemock.apis.<name>.rules``);
they come in three shapes, all on plain JSON so they check any server:

- :class:`Rule`: one decoded 200 body on its own;
- :class:`MomentRule`: one answer against the moment it was asked (give or take clock skew);
- :class:`SeriesRule`: two answers to the same token for the same org, one asked after the other.
"""

from __future__ import annotations

from usagemock.rules.shapes import (
    DEFAULT_CLOCK_SKEW,
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

__all__ = [
    "DEFAULT_CLOCK_SKEW",
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
]
