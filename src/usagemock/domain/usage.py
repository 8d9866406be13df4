"""Usage accrual over a billing period: a realistic, deterministic curve plus ingests by hand.

Usage arrives with a daily rhythm (busy afternoons, quiet nights, UTC), a weekly one (quieter
weekends), slow growth across the period and hour-to-hour noise. The curve is the cumulative sum
of hourly weights scaled to the period's expected total, so it never goes down inside a period and
reaches exactly the expected total at the period's end.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from usagemock.domain.periods import Period

_WEEKEND_FACTOR = 0.45
_HOUR = timedelta(hours=1)
_NONE = timedelta(0)


@dataclass(frozen=True)
class Ingest:
    """Usage added by hand (the admin API, a scenario's timeline) at one moment."""

    at: datetime
    amount: int


def ingested(ingests: Iterable[Ingest], period: Period, moment: datetime) -> int:
    """Units ingested by hand in ``period`` up to and including ``moment``."""
    return sum(i.amount for i in ingests if period.start <= i.at <= moment and i.at < period.end)


@dataclass(frozen=True)
class UsageCurve:
    """How much one account consumes in a period: an opening batch, then a rhythm."""

    expected_total: int
    """Units (events or credits) consumed by the end of each period."""
    opening: int
    """Units ingested in the period's first hour (a batch or backfill), part of the total."""
    seed: int
    """Shapes the noise, so two accounts with the same totals still differ."""
    since: datetime | None = None
    """Accrual starts here (when a scenario was applied); None: from every period's start."""

    def at(self, period: Period, moment: datetime) -> int:
        """Cumulative units consumed from the period's start (or ``since``) up to ``moment``."""
        done = self._cumulative(period, moment)
        if self.since is not None and self.since > period.start:
            done -= self._cumulative(period, min(self.since, moment))
        return done

    def _cumulative(self, period: Period, moment: datetime) -> int:
        elapsed = period.elapsed(moment)
        if elapsed <= _NONE:
            return 0
        shares = _cumulative_shares(self.seed, period.start, period.hours)
        whole_hours, remainder = divmod(elapsed, _HOUR)
        if whole_hours >= len(shares) - 1:
            fraction = 1.0
        else:
            step = shares[whole_hours + 1] - shares[whole_hours]
            fraction = shares[whole_hours] + step * (remainder / _HOUR)
        opening = self.opening if elapsed >= _HOUR else 0
        return opening + math.floor((self.expected_total - self.opening) * fraction)


@functools.lru_cache(maxsize=2048)
def _cumulative_shares(seed: int, start: datetime, hours: int) -> tuple[float, ...]:
    """Fraction of the period's usage done after each whole hour (0.0 first, 1.0 last)."""
    rng = random.Random(f"{seed}:{start.isoformat()}")
    weights = []
    for hour in range(hours):
        moment = start + timedelta(hours=hour)
        daily = 1.0 + 0.6 * math.sin((moment.hour - 8) / 24 * 2 * math.pi)
        weekly = _WEEKEND_FACTOR if moment.weekday() >= 5 else 1.0
        growth = 1.0 + 0.3 * hour / max(hours, 1)
        noise = rng.uniform(0.7, 1.3)
        weights.append(daily * weekly * growth * noise)
    total = sum(weights)
    return (0.0, *(done / total for done in accumulate(weights)))
