"""Time as an injectable dependency, so the engine is tested with a fake clock and no sleeps."""

from __future__ import annotations

import time
from typing import Protocol

DAY = 86400.0  # seconds; retention periods and day windows are counted in these


class Clock(Protocol):
    """Where the engine reads time from."""

    def now(self) -> float:
        """Wall-clock seconds since the epoch (UTC); persisted timestamps use this."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards; durations use this."""
        ...


class SystemClock:
    """The production clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK: Clock = SystemClock()
