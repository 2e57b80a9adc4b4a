"""Driving the Stash poll from the engine's tick, and what its outcome means.

`StashPolling` is built by `SyncEngine`. A poll is also the check whether Stash's credentials
work again; its outcome is the one place Stash's health is set (`ServiceState.stash_answered`),
and the scenes it queued start a bulk sync's progress.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import ErrorClass, StashQueryError, SyncError
from engine.poll.scheduler import PollScheduler
from engine.sync.failures import STASH_OUTAGE, ServiceState
from engine.sync.progress import BulkProgress
from engine.wakeup import WakeWatch

logger = logging.getLogger(__name__)


class StashPolling:
    def __init__(
        self,
        *,
        polls: PollScheduler,
        services: ServiceState,
        progress: BulkProgress,
        clock: Clock,
        wake: WakeWatch,
        stop: threading.Event,
        config: Callable[[], PlexSyncConfig],
    ) -> None:
        self._polls = polls
        self._services = services
        self._progress = progress
        self._clock = clock
        self._wake = wake
        self._stop = stop
        self._config = config

    def maybe_poll(self) -> None:
        """Poll if one is due (a few pages per tick; `PollScheduler` keeps the place)."""
        if not self._polls.due():
            return
        # Paused for Stash's credentials, this poll is also the check whether they work again.
        outcome = self._polls.poll(self._config().poll_interval, self._stop)
        if outcome.added:
            self._progress.started(outcome.added)
        error = outcome.error
        if error is None or not (error.error_class in STASH_OUTAGE and self._wake.settling):
            self._services.stash_answered(error)  # an outage right after a wake-up stays quiet
        if error is not None:
            self.on_error(error)
            return
        self._services.last_checked_at = self._clock.now()  # Stash answered: not stale
        self._services.clear_error("stash")
        if self._services.auth_service == "stash":
            logger.info("Stash accepts the API key again; syncing resumes")
            self._services.clear_auth_error()

    def on_error(self, exc: SyncError) -> None:
        """A Stash call failed (the poll's, or the library check's)."""
        if exc.error_class in STASH_OUTAGE and self._wake.settling:
            self._polls.skip(max(0.0, self._wake.settle_until - self._clock.monotonic()))
        elif exc.error_class is ErrorClass.AUTH:
            self._services.set_auth_error(exc.title, "stash")
        else:
            text = f"{exc.title} ({exc.message})" if exc.message else exc.title
            repeated = text == self._services.last_error
            self._services.note_error("stash", text)
            if isinstance(exc, StashQueryError) and repeated:
                logger.debug("Polling Stash failed again: %s", text)  # said once is enough
            else:
                logger.warning("Polling Stash failed: %s", text)
