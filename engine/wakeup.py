"""Calm after sleep: notice a resume or a network change, then let the network settle.

After a laptop wakes, the network takes seconds to come back. A suspend shows as the wall clock
running ahead of the monotonic clock between two ticks: Linux's CLOCK_MONOTONIC and macOS's
mach_absolute_time stop while the machine sleeps, the wall clock does not. A network change
comes from outside (the tray hears it from Qt). Either one opens a settle window in which the
engine does not count failures against Plex or Stash; when it ends the engine checks at once.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from engine.clock import Clock

logger = logging.getLogger(__name__)

RESUME_JUMP = 15.0  # seconds the wall clock may run ahead of the monotonic one between ticks
SETTLE_SECONDS = 30.0  # how long after a wake failures do not count


class WakeReason(StrEnum):
    RESUME = "resume"
    NETWORK = "network change"


class WakeWatch:
    """Compares the two clocks at each tick and keeps the settle window."""

    def __init__(
        self, clock: Clock, *, jump: float = RESUME_JUMP, settle: float = SETTLE_SECONDS
    ) -> None:
        self._clock = clock
        self._jump = jump
        self._settle = settle
        self._last = (clock.now(), clock.monotonic())
        self._settle_until = float("-inf")  # monotonic
        self._pending: WakeReason | None = None

    def check(self) -> WakeReason | None:
        """Call once per tick: the reason a settle window starts now, or None."""
        now, mono = self._clock.now(), self._clock.monotonic()
        last_now, last_mono = self._last
        self._last = (now, mono)
        reason, self._pending = self._pending, None
        if (now - last_now) - (mono - last_mono) > self._jump:
            reason = WakeReason.RESUME
            logger.info("Resumed from sleep (about %.0f s); settling", (now - last_now))
        if reason is not None:
            self._settle_until = mono + self._settle
        return reason

    def network_changed(self) -> None:
        """The platform says the network changed: settle from the next check."""
        self._pending = WakeReason.NETWORK

    @property
    def settling(self) -> bool:
        """Inside the settle window: failures now do not count."""
        return self._clock.monotonic() < self._settle_until

    @property
    def settle_until(self) -> float:
        """The monotonic time the window ends (-inf when none was opened)."""
        return self._settle_until
