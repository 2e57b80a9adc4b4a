"""When the engine polls Stash, and what a poll's outcome means for the engine.

The engine owns its error and auth states; this module owns the poll timetable and the poller,
and hands back a typed outcome so the engine never handles Stash's errors inline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from engine.clock import Clock
from engine.errors import SyncError
from engine.poller import StashPoller, StashSource
from engine.store import JobStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollOutcome:
    """What one poll did: jobs added, or the error that stopped it (its progress is kept)."""

    added: int = 0
    error: SyncError | None = None


class PollScheduler:
    """Polls Stash once every poll interval, through a poller built on first use."""

    def __init__(self, *, store: JobStore, clock: Clock, source: Callable[[], StashSource]) -> None:
        self._store = store
        self._clock = clock
        self._source = source
        self._poller: StashPoller | None = None
        self._next_at = float("-inf")

    @property
    def next_at(self) -> float:
        """Monotonic time of the next poll."""
        return self._next_at

    def poll_soon(self) -> None:
        """Poll at the next tick (sync now, new settings)."""
        self._next_at = float("-inf")

    def due(self) -> bool:
        return self._clock.monotonic() >= self._next_at

    def forget_source(self) -> None:
        """The Stash client was closed: the next poll builds a poller on a new one."""
        self._poller = None

    def poll(self, interval: float, stop: threading.Event) -> PollOutcome:
        """Run one poll now; the next one is due `interval` seconds later."""
        self._next_at = self._clock.monotonic() + interval
        if self._poller is None:
            self._poller = StashPoller(self._source(), self._store)
        try:
            return PollOutcome(added=self._poller.poll(stop))
        except SyncError as exc:
            return PollOutcome(error=exc)

    def skip(self, interval: float) -> None:
        """Not polling this time (Stash's key was rejected): try again an interval later."""
        self._next_at = self._clock.monotonic() + interval
