"""Faults a team can inject on purpose: latency, error responses, and a rate of failure."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """What to do to responses: delay them, and answer some with an error status."""

    status: int | None = None
    """An error status the operation documents; None adds only latency."""
    rate: float = 1.0
    """Share of requests that get ``status`` (0 to 1)."""
    latency_ms: int = 0
    """Fixed delay before answering."""
    jitter_ms: int = 0
    """Up to this much more delay, at random."""

    def delay_seconds(self, rng: random.Random) -> float:
        """How long to hold this response."""
        return (self.latency_ms + rng.uniform(0, self.jitter_ms)) / 1000

    def fails(self, rng: random.Random) -> bool:
        """Whether this response gets the error status."""
        return self.status is not None and rng.random() < self.rate
