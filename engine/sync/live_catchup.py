"""What the engine does with a live signal, apart from the engine itself.

`SignalGate` folds a burst of signals (a scan of 1,000 files sends 1,000 timeline entries) into
one command per tick. `ready_found` is the Plex side: scenes waiting because Plex lacked their
file are made ready at once when Plex has it now, without using an attempt, and without any
request to Plex when nothing waits.
"""

from __future__ import annotations

import logging
import threading

from engine.config.file import PlexSyncConfig
from engine.live.messages import LiveSignal
from engine.plex.target import PlexTarget
from engine.push.pusher import ScenePusher
from engine.store.jobs import JobStore

logger = logging.getLogger(__name__)


class SignalGate:
    """At most one queued command per signal (any thread offers; the engine thread takes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: set[LiveSignal] = set()

    def offer(self, signal: LiveSignal) -> bool:
        """True when no command for `signal` is queued yet (the caller queues one)."""
        with self._lock:
            if signal in self._pending:
                return False
            self._pending.add(signal)
            return True

    def taken(self, signal: LiveSignal) -> None:
        with self._lock:
            self._pending.discard(signal)


def ready_found(
    store: JobStore, pusher: ScenePusher, plex: PlexTarget, config: PlexSyncConfig
) -> int:
    """Plex gained items: make ready the not-found jobs whose files it has now."""
    waiting = store.waiting_not_found()
    if not waiting:
        return 0
    files = {job.scene_id: [str(p) for p in job.payload.get("files") or []] for job in waiting}
    found = pusher.found_now(plex, config, files)
    if found:
        store.make_ready(found)
        logger.info("Plex has the files of %d waiting scene(s) now; syncing them", len(found))
    return len(found)
