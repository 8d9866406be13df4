"""What the contract kit needs to know about one API: the light half of its definition.

An :class:`ApiFacts` imports only the rules and the specs, so the kit (which never loads the
mock) can read it; the mock half, :class:`usagemock.apis.api_definition.ApiDefinition`, is named by
``definition`` and imported only when the mock asks for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from usagemock.rules import DEFAULT_CLOCK_SKEW, Answer, Body, MomentRule, Rule, SeriesRule, Source
from usagemock.specs import load_cached


@dataclass(frozen=True)
class ApiFacts:
    """One API's name, spec, vendor document, rules and the facts the kit and the CLI use."""

    name: str
    """The name in URLs, flags, settings and stored records (lower case letters)."""
    spec: Path
    """Its OpenAPI 3.1 document."""
    doc: str
    """The vendor document its sources quote (a file of ``specs/vendor``)."""
    definition: str
    """``module:attribute`` of its mock half (an ``ApiDefinition``), imported on demand."""
    sample_path: str
    """A path that answers 200 with any token in open mode (the serve banner's curl)."""
    org_param: str | None = None
    """The path parameter naming the org the request reads; None: the token's own org."""
    rules: tuple[Rule, ...] = ()
    moments: tuple[MomentRule, ...] = ()
    series: tuple[SeriesRule, ...] = ()
    check_sources: Mapping[str, Source] = field(default_factory=dict)
    """Where a kit check rests for this API, when it differs from the shared source."""
    categories: tuple[str, ...] = ()
    """Fields the mock draws from a fixed set (plan terms, statuses), not measures: ``usagemock
    drift`` reports a live value of one that the mock never produces."""

    def every_rule(self) -> tuple[Rule | MomentRule | SeriesRule, ...]:
        """Its body, moment and series rules, in that order."""
        return (*self.rules, *self.moments, *self.series)

    def document(self) -> Mapping[str, Any]:
        """Its spec, parsed once per process (callers must not mutate it)."""
        return load_cached(self.spec)

    def violations(self, body: Body) -> list[str]:
        """Every body rule that ``body`` breaks, as ``rule: what`` lines."""
        return [f"{rule.name}: {what}" for rule in self.rules for what in rule(body)]

    def moment_violations(self, answer: Answer, skew: timedelta = DEFAULT_CLOCK_SKEW) -> list[str]:
        """Every moment rule that ``answer`` breaks, as ``rule: what`` lines."""
        return [f"{rule.name}: {what}" for rule in self.moments for what in rule(answer, skew)]

    def series_violations(
        self, earlier: Answer, later: Answer, skew: timedelta = DEFAULT_CLOCK_SKEW
    ) -> list[str]:
        """Every series rule that the pair breaks, as ``rule: what`` lines."""
        return [
            f"{rule.name}: {what}" for rule in self.series for what in rule(earlier, later, skew)
        ]
