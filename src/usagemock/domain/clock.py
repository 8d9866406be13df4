"""The virtual clock: real time by default; frozen, set or moved by hand for demos and tests.

A clock is a small value (frozen moment or offset from real time), so it can be stored and shared
by every worker process; ``now`` is computed from it and the real time passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeAlias

import isodate

Step: TypeAlias = timedelta | isodate.Duration

# Whole years, months, weeks, days, hours and minutes (fractional seconds only): isodate alone
# also takes "PT" and "P1DT", and "P1.5M", which it cannot add to a date.
_STEP = re.compile(r"-?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?")


@dataclass(frozen=True)
class ClockState:
    """Where the mock's clock stands relative to real time."""

    frozen_at: datetime | None = None
    """The moment the clock shows while frozen; None when it follows real time."""
    offset: timedelta = timedelta(0)
    """How far ahead of (or behind) real time the running clock is."""

    @property
    def frozen(self) -> bool:
        """Whether the clock stands still."""
        return self.frozen_at is not None

    def now(self, real: datetime) -> datetime:
        """The mock's time when the real time is ``real``."""
        return self.frozen_at if self.frozen_at is not None else real + self.offset

    def set(self, moment: datetime, real: datetime) -> ClockState:
        """Show ``moment`` now, frozen or running as before."""
        if self.frozen:
            return replace(self, frozen_at=moment)
        return replace(self, offset=moment - real)

    def advance(self, step: Step, real: datetime) -> ClockState:
        """Move the clock forward (or back, with a negative step) by ``step``."""
        return self.set(self.now(real) + step, real)

    def freeze(self, real: datetime) -> ClockState:
        """Stop the clock at the moment it shows."""
        return ClockState(frozen_at=self.now(real))

    def resume(self, real: datetime) -> ClockState:
        """Let a frozen clock run again from the moment it shows."""
        return ClockState(offset=self.now(real) - real)


def parse_step(text: str) -> Step:
    """Parse an ISO 8601 duration such as ``P3D``, ``PT6H`` or ``P1M`` (``-P1D`` goes back)."""
    try:
        if not _STEP.fullmatch(text.strip()):
            raise ValueError(text)
        step: Step = isodate.parse_duration(text.strip())
        return step
    except (isodate.ISO8601Error, ValueError) as exc:
        raise ValueError(
            f"{text!r} is not an ISO 8601 duration; use e.g. P3D (3 days), PT6H (6 hours), P1M"
        ) from exc
