"""A fault's latency: the fixed delay plus a jitter drawn from the run's seeded generator."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from usagemock.domain.faults import Fault


@given(latency=st.integers(0, 60_000), jitter=st.integers(0, 60_000), seed=st.integers(0, 2**32))
def test_a_delay_lies_between_the_latency_and_the_latency_plus_jitter(
    latency: int, jitter: int, seed: int
) -> None:
    """Every delay drawn is at least the latency and at most the latency plus the jitter."""
    delay = Fault(latency_ms=latency, jitter_ms=jitter).delay_seconds(random.Random(seed))
    assert latency / 1000 <= delay <= (latency + jitter) / 1000


def test_the_jitter_spreads_the_delays_over_its_range() -> None:
    """The jitter is drawn anew each time, across its range, not fixed at one end."""
    rng = random.Random(7)
    fault = Fault(latency_ms=200, jitter_ms=100)
    delays = [fault.delay_seconds(rng) for _ in range(200)]
    assert min(delays) < 0.21 and max(delays) > 0.29
