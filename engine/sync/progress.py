"""The progress of a bulk sync (many scenes queued at once), for the tray's progress bar.

A poll that queues scenes starts (or extends) a bulk; each settled job counts one done. Fewer
than two scenes is not a bulk: no bar for a single edit.
"""

from __future__ import annotations

from engine.clock import Clock
from engine.events import Progress, SyncListener


class BulkProgress:
    def __init__(self, clock: Clock, listener: SyncListener) -> None:
        self._clock = clock
        self._listener = listener
        self._total = 0
        self._done = 0
        self._started = 0.0
        self.current: Progress | None = None

    def started(self, added: int) -> None:
        """`added` scenes were queued: a new bulk, or more for the one running."""
        if self.current is None or self._done >= self._total:
            self._total, self._done = 0, 0
            self._started = self._clock.monotonic()
        self._total += added
        self._update()

    def finished_one(self) -> None:
        """A job of the bulk was settled for good (synced or dead-lettered)."""
        self._done += 1
        self._update()

    def _update(self) -> None:
        if self._total < 2:
            self._set(None)
            return
        elapsed = self._clock.monotonic() - self._started
        rate = self._done / elapsed if elapsed > 0 and self._done else 0.0
        if self._done >= self._total:
            self._total = self._done = 0
            self._set(None)
        else:
            self._set(Progress(self._done, self._total, rate))

    def _set(self, progress: Progress | None) -> None:
        if progress != self.current:
            self.current = progress
            self._listener.progress_changed(progress)
