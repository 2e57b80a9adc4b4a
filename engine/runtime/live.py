"""Live updates: Stash's job stream and Plex's notifications, each on a daemon thread.

Owned by the runtime next to the engine. The threads only hand signals to
`SyncEngine.live_signal`, which queues a command; the engine thread does all the work. They
stop as soon as the engine is asked to stop (its wake callback), and `stop()` joins them. A
stream catches its own failures and retries; should its thread die all the same, the next wake
of the engine (any command) starts it again, and the status says live updates were off.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence

from engine.clock import SYSTEM_CLOCK, Clock
from engine.live.plex import PlexNotifications
from engine.live.stash import StashJobs
from engine.live.stream import Backoff, Stream, StreamWorker
from engine.sync.engine import SyncEngine

logger = logging.getLogger(__name__)

STOP_TIMEOUT = 1.0


class LiveUpdates:
    def __init__(
        self,
        engine: SyncEngine,
        *,
        streams: Sequence[Stream] | None = None,
        rng: random.Random | None = None,
        backoff: Backoff | None = None,
        wait: Callable[[float], bool] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._engine = engine
        self._revive_lock = threading.Lock()
        rng = rng or random.Random()
        self.workers = [
            StreamWorker(
                stream,
                config=lambda: engine.config,
                deliver=engine.live_signal,
                rng=rng,
                backoff=backoff,
                wait=wait,
                clock=clock,
                on_state=engine.live_state,
            )
            for stream in (streams if streams is not None else (StashJobs(), PlexNotifications()))
        ]
        engine.add_wake_callback(self._on_engine_wake)

    def start(self) -> LiveUpdates:
        for worker in self.workers:
            worker.start()
        return self

    def stop(self) -> None:
        """Stop both streams and wait for their threads (at most about a second)."""
        for worker in self.workers:
            worker.request_stop()
        for worker in self.workers:
            worker.stop(STOP_TIMEOUT)
            if worker.alive:
                logger.debug("A live-update thread did not stop in time")

    def revive(self) -> int:
        """Start again any stream whose thread died (it said why in the status); how many."""
        with self._revive_lock:  # wakes come from any thread
            return self._revive()

    def _revive(self) -> int:
        revived = 0
        for worker in self.workers:
            if worker.started and not worker.alive and not worker.stopping:
                logger.warning("A live-update thread had stopped; starting it again")
                worker.start()
                revived += 1
        return revived

    def _on_engine_wake(self) -> None:
        if self._engine.stopping:
            for worker in self.workers:
                worker.request_stop()
        else:  # any command wakes the engine: a cheap moment to look after the threads
            self.revive()
