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

# The mock's calendar (assumed): every moment a client gives (the clock, --now, an ingest, a
# stored record) has a year from 1000 to 8999 as written, so any zone offset, any billing period
# around it (a month or two) and any scenario step (at most MAX_STEP_YEARS) stays inside what
# Python's datetime holds (years 1-9999), and every date goes out as four-digit RFC 3339.
FIRST_YEAR = 1000
LAST_YEAR = 8999
MAX_STEP_YEARS = 100

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


def in_calendar(moment: datetime, *, slack_years: int = 0) -> bool:
    """Whether ``moment`` (its year as written, in its own zone) is inside the mock's calendar.

    ``slack_years`` widens it on both sides, as for moments a scenario step made.
    """
    return FIRST_YEAR - slack_years <= moment.year <= LAST_YEAR + slack_years


def calendar_moment(text: str, *, slack_years: int = 0) -> datetime:
    """An RFC 3339 moment with a zone (``t``/``z`` in any case) inside the mock's calendar.

    ``slack_years`` widens the calendar on both sides (a stored record may hold moments a
    scenario step put up to ``MAX_STEP_YEARS`` beyond it). Raises ``ValueError`` with a sentence
    that says what is wrong and what to send instead.
    """
    try:
        moment = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    except ValueError:  # also a leap second (:60): valid RFC 3339 but no Python datetime
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"{text!r} is not an ISO 8601 timestamp with a zone; use e.g. 2026-03-17T14:30:00Z"
        )
    if not in_calendar(moment, slack_years=slack_years):
        first, last = FIRST_YEAR - slack_years, LAST_YEAR + slack_years
        raise ValueError(
            f"{text!r} is outside the mock's calendar; use a moment in years {first} to {last}"
        )
    return moment


def parse_step(text: str) -> Step:
    """Parse an ISO 8601 duration such as ``P3D``, ``PT6H`` or ``P1M`` (``-P1D`` goes back)."""
    try:
        if not _STEP.fullmatch(text.strip()):
            raise ValueError(text)
        step: Step = isodate.parse_duration(text.strip())
        return step
    except OverflowError as exc:
        raise ValueError(
            f"{text!r} is longer than any calendar; use at most {MAX_STEP_YEARS} years"
        ) from exc
    except (isodate.ISO8601Error, ValueError) as exc:
        raise ValueError(
            f"{text!r} is not an ISO 8601 duration; use e.g. P3D (3 days), PT6H (6 hours), P1M"
        ) from exc
