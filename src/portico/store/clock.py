"""Wall-clock time, injected so that leases, delays and TTLs are tested without sleeping.

The store persists absolute times (a message's `visible_at`, a record's `updated_at`), which
must mean the same after a restart, so its clock is the wall clock (`time.time`), not
`time.monotonic`. A backwards jump of the system clock delays visibility by as much; it never
loses or duplicates anything.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to: for tests, and for replaying recorded time."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        self._now += seconds

    def set(self, now: float) -> None:
        self._now = now
