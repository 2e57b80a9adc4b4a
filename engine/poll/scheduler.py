"""When the engine polls Stash, how much of a poll one tick may do, and what an outcome means.

A poll reads scenes, then tags, performers and studios (`object_poller`), each from its
watermark to the newest change, then the fan-out their renames and merges need. A tick reads at
most `PAGES_PER_TICK` pages of that (a last page with nothing new, what an idle poll reads, is
free: at most one per cycle) and the next tick goes on, so a busy Stash never takes the
engine's time away from the queue (the engine gives jobs their own budget after the poll's
pages). The engine owns its error and auth states; this module hands back a typed outcome.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import SyncError
from engine.plan.claims import recheck_conflicts
from engine.poll.objects import FanOut, ObjectPoller
from engine.poll.scenes import KeysetPoller, StashPoller
from engine.stash.objects import OBJECT_KINDS
from engine.stash.scene import PAGE_SIZE
from engine.stash.source import StashSource
from engine.store.jobs import JobStore

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
        page_size: int = PAGE_SIZE,
        config: Callable[[], PlexSyncConfig] | None = None,
    ) -> None:
        self._config = config  # the gates' settings (`engine.plan.gates`)
        self._store = store
        self._clock = clock
        self._source = source
        self._pages_per_tick = pages_per_tick
        self._page_size = page_size
        self._poller: StashPoller | None = None
        self._objects: list[ObjectPoller] = []
        self._fan_out: FanOut | None = None
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

    @property
    def reading_scenes(self) -> bool:
        """The scene poller is under way: Stash's changed scenes are not all queued yet (the
        objects' pages and their fan-out come after)."""
        return self._reading and self._poller is not None and self._poller.in_cycle

    def poll_soon(self) -> None:
        """Poll at the next tick (sync now, new settings)."""
        self._next_at = float("-inf")

    def due(self) -> bool:
        return self._reading or self._clock.monotonic() >= self._next_at

    def forget_source(self) -> None:
        """The Stash client was closed: the next poll builds a poller on a new one."""
        self._poller = None
        self._objects = []
        self._fan_out = None

    def skip(self, interval: float) -> None:
        """Not polling this time (Stash's key was rejected): try again an interval later."""
        self._reading = False
        self._next_at = self._clock.monotonic() + interval

    def poll(self, interval: float, stop: threading.Event) -> PollOutcome:
        """Read this tick's pages of the poll under way, starting one if none is."""
        if self._poller is None:
            self._build()
        starting = not self._reading
        if starting:
            self._next_at = self._clock.monotonic() + interval
            for poller in self._cycles():
                if not poller.in_cycle:
                    poller.start_cycle()
        added, budget = 0, self._pages_per_tick
        try:
            if starting:
                added += self._recheck_conflicts()
            while budget > 0:
                step_added, cost = self._step()
                added += step_added
                budget -= cost
                self._reading = self._has_work()
                if not self._reading or stop.is_set():
                    break
        except SyncError as exc:
            # Each cursor is where its last page left it; go on after a poll interval.
            self._reading = False
            self._next_at = self._clock.monotonic() + interval
            return PollOutcome(added, exc)
        return PollOutcome(added)

    def _recheck_conflicts(self) -> int:
        """Two scenes on one file: once Stash has only one there, the other syncs again."""
        assert self._poller is not None
        lookup = self._poller.source.scenes_by_id
        return recheck_conflicts(self._store, lookup, self._retry)

    def _retry(self, entry_id: int) -> None:
        self._store.dlq_retry([entry_id])

    def _build(self) -> None:
        source = self._source()
        size = self._page_size
        self._poller = StashPoller(
            source, self._store, self._clock, page_size=size, config=self._config
        )
        config = self._config
        self._fan_out = FanOut(
            source,
            self._store,
            self._poller.take,
            self._clock,
            page_size=size,
            through_performers=lambda: config is not None and config().performer_tags_as_genres,
        )
        self._objects = [
            ObjectPoller(kind, source, self._store, self._clock, self._fan_out, page_size=size)
            for kind in OBJECT_KINDS
        ]

    def _cycles(self) -> list[KeysetPoller]:
        assert self._poller is not None
        return [self._poller, *self._objects]

    def _has_work(self) -> bool:
        fan_out = self._fan_out
        return any(p.in_cycle for p in self._cycles()) or (fan_out is not None and fan_out.pending)

    def _step(self) -> tuple[int, int]:
        """One request: scenes first, then objects, then the fan-out of their changes.

        Returns (jobs added, its cost against the tick's budget)."""
        for poller in self._cycles():
            if poller.in_cycle:
                result = poller.read_page()
                idle = result.finished and not result.fresh
                return result.added, 0 if idle else 1
        if self._fan_out is not None and self._fan_out.pending:
            return self._fan_out.step(), 1
        return 0, 1
