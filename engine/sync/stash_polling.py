"""How the engine reads Stash: the poll, Stash's health, and what its errors mean.

A mixin of `SyncEngine` (split out of `engine/sync/engine.py` for size). A poll is also the check
whether Stash's credentials work again; its outcome is the one place Stash's health is set, and
outages go to the history like Plex's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import ErrorClass, StashQueryError, SyncError
from engine.events import ServiceHealth
from engine.poll.scheduler import PollScheduler
from engine.stash.source import StashSource
from engine.store.jobs import JobStore
from engine.sync.settling import STASH_OUTAGE
from engine.wakeup import WakeWatch

logger = logging.getLogger(__name__)

STASH_DOWN = (ServiceHealth.UNREACHABLE, ServiceHealth.ERROR)


class StashSide:
    """Stash polling and health for `SyncEngine`, which provides the state below."""

    _store: JobStore
    _config: PlexSyncConfig
    _clock: Clock
    _wake: WakeWatch
    _polls: PollScheduler
    _stop: threading.Event
    _stash: StashSource | None
    _stash_factory: Callable[[PlexSyncConfig], StashSource]
    _stash_health: ServiceHealth
    _stash_error: str | None
    _last_checked_at: float | None
    _auth_service: str | None
    _last_error: str | None

    def _start_bulk(self, added: int) -> None:
        raise NotImplementedError

    def _clear_error(self, service: str) -> None:
        raise NotImplementedError

    def _clear_auth_error(self, *, by_user: bool = False) -> None:
        raise NotImplementedError

    def _set_auth_error(self, message: str, service: str) -> None:
        raise NotImplementedError

    def _note_error(self, service: str, text: str) -> None:
        raise NotImplementedError

    def _maybe_poll(self) -> None:
        if not self._polls.due():
            return
        # Paused for Stash's credentials, this poll is also the check whether they work again.
        outcome = self._polls.poll(self._config.poll_interval, self._stop)
        if outcome.added:
            self._start_bulk(outcome.added)
        error = outcome.error
        if error is None or not (error.error_class in STASH_OUTAGE and self._wake.settling):
            self._set_stash_health(error)  # an outage right after a wake-up stays quiet
        if outcome.error is not None:
            self._on_stash_error(outcome.error)
            return
        self._last_checked_at = self._clock.now()  # Stash answered: an idle app is not stale
        self._clear_error("stash")
        if self._auth_service == "stash":
            logger.info("Stash accepts the API key again; syncing resumes")
            self._clear_auth_error()

    def _stash_client(self) -> StashSource:
        if self._stash is None:
            self._stash = self._stash_factory(self._config)
        return self._stash

    def _set_stash_health(self, exc: SyncError | None) -> None:
        """What the last poll says about Stash (the one place its health is set)."""
        if exc is None or isinstance(exc, StashQueryError):
            # A refusal of one request is an answer: Stash is up (its words go to the log).
            self._record_stash_outage(ServiceHealth.OK)
            self._stash_health, self._stash_error = ServiceHealth.OK, None
            return
        health = {
            ErrorClass.AUTH: ServiceHealth.AUTH_FAILED,
            ErrorClass.UNREACHABLE: ServiceHealth.UNREACHABLE,
            ErrorClass.TRANSIENT: ServiceHealth.UNREACHABLE,
        }.get(exc.error_class, ServiceHealth.ERROR)
        self._record_stash_outage(health)
        self._stash_health = health
        self._stash_error = f"{exc.title} ({exc.message})" if exc.message else exc.title

    def _record_stash_outage(self, health: ServiceHealth) -> None:
        """Stash's outages go to the history like Plex's (an answer, even a refusal, ends one)."""
        down = health in STASH_DOWN
        if down == (self._stash_health in STASH_DOWN):
            return
        if down:
            self._store.outage_started(self._clock.now(), "stash")
        else:
            self._store.outage_ended(self._clock.now(), "stash")

    def _on_stash_error(self, exc: SyncError) -> None:
        if exc.error_class in STASH_OUTAGE and self._wake.settling:
            self._polls.skip(max(0.0, self._wake.settle_until - self._clock.monotonic()))
        elif exc.error_class is ErrorClass.AUTH:
            self._set_auth_error(exc.title, "stash")
        else:
            text = f"{exc.title} ({exc.message})" if exc.message else exc.title
            repeated = text == self._last_error
            self._note_error("stash", text)
            if isinstance(exc, StashQueryError) and repeated:
                logger.debug("Polling Stash failed again: %s", text)  # said once is enough
            else:
                logger.warning("Polling Stash failed: %s", text)
