"""When the engine polls Stash, how much of a poll one tick may do, and what an outcome means.

A poll cycle reads from the watermark to the newest change; a tick reads at most
`PAGES_PER_TICK` pages of it and the next tick goes on, so a busy Stash never takes the engine's
time away from the queue (the engine gives jobs their own budget after the poll's pages). The
engine owns its error and auth states; this module hands back a typed outcome.
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

PAGES_PER_TICK = 2


@dataclass(frozen=True)
class PollOutcome:
    """What one tick's share of a poll did: jobs added, or the error that stopped it.

    After an error the cycle's position is kept; it resumes a poll interval later.
    """

    added: int = 0
    error: SyncError | None = None


class PollScheduler:
    """Starts a poll cycle every poll interval and reads it a few pages per tick."""

    def __init__(
        self,
        *,
        store: JobStore,
        clock: Clock,
        source: Callable[[], StashSource],
        pages_per_tick: int = PAGES_PER_TICK,
    ) -> None:
        self._store = store
        self._clock = clock
        self._source = source
        self._pages_per_tick = pages_per_tick
        self._poller: StashPoller | None = None
        self._next_at = float("-inf")
        self._reading = False  # a cycle is under way and goes on at the next tick

    @property
    def next_at(self) -> float:
        """Monotonic time when polling is next useful."""
        return float("-inf") if self._reading else self._next_at

    @property
    def busy(self) -> bool:
        """A cycle is under way: the next tick should come at once."""
        return self._reading

    def poll_soon(self) -> None:
        """Poll at the next tick (sync now, new settings)."""
        self._next_at = float("-inf")

    def due(self) -> bool:
        return self._reading or self._clock.monotonic() >= self._next_at

    def forget_source(self) -> None:
        """The Stash client was closed: the next poll builds a poller on a new one."""
        self._poller = None

    def skip(self, interval: float) -> None:
        """Not polling this time (Stash's key was rejected): try again an interval later."""
        self._reading = False
        self._next_at = self._clock.monotonic() + interval

    def poll(self, interval: float, stop: threading.Event) -> PollOutcome:
        """Read this tick's pages of the cycle under way, starting one if none is."""
        if self._poller is None:
            self._poller = StashPoller(self._source(), self._store, self._clock)
        poller = self._poller
        if not self._reading:
            self._next_at = self._clock.monotonic() + interval
            if not poller.in_cycle:
                poller.start_cycle()
        added = 0
        try:
            for _ in range(self._pages_per_tick):
                result = poller.read_page()
                added += result.added
                self._reading = not result.finished
                if result.finished or stop.is_set():
                    break
        except SyncError as exc:
            # The cursor is where the last page left it; go on after a poll interval.
            self._reading = False
            self._next_at = self._clock.monotonic() + interval
            return PollOutcome(added, exc)
        return PollOutcome(added)
