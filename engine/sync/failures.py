"""How the engine reads what Plex and Stash answered: errors, sign-in pauses, storage trouble.

A mixin of `SyncEngine` (split out of `engine/sync/engine.py` for size). It keeps the breaker's
bookkeeping for failed calls, the last error per service, the pause while credentials are
rejected (re-checked every poll interval, so it ends by itself), and the wait while the database
cannot be written.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from engine.breaker import CircuitBreaker, CircuitState
from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import ErrorClass, SyncError
from engine.events import JobOutcome, SyncListener
from engine.plex.target import PlexTarget
from engine.push.pusher import ScenePusher
from engine.retry import MAX_RETRY_AFTER
from engine.store.base import describe_storage_error
from engine.store.jobs import JobStore
from engine.sync.settling import STASH_OUTAGE
from engine.wakeup import WakeWatch

logger = logging.getLogger(__name__)

STORAGE_RETRY = 10.0  # seconds between attempts while the database cannot be written


class ServiceAnswers:
    """Failure and pause bookkeeping for `SyncEngine`, which provides the state below."""

    _store: JobStore
    _config: PlexSyncConfig
    _clock: Clock
    _listener: SyncListener
    _wake: WakeWatch
    _pusher: ScenePusher
    breaker: CircuitBreaker
    _plex_hold_until: float
    _plex_checking: bool
    _check_after_reset: bool
    _last_error: str | None
    _last_error_service: str | None
    _auth_error: str | None
    _auth_service: str | None
    _auth_notified: str | None
    _next_auth_check_at: float
    _engine_error: str | None
    _dead_batch: list[JobOutcome]
    _hold_while_settling: Callable[[], None]
    _publish: Callable[[], None]

    def _plex_client(self) -> PlexTarget:
        raise NotImplementedError

    def _on_failure(self, exc: SyncError) -> None:
        """Breaker and engine bookkeeping for a failed call (the job is handled apart)."""
        error_class = exc.error_class
        if exc.service == "plex":
            down = error_class in (ErrorClass.UNREACHABLE, ErrorClass.TRANSIENT)
            self._plex_answered(ok=False, down=down and not self._wake.settling)
        if error_class in STASH_OUTAGE and self._wake.settling:
            self._hold_while_settling()
        elif error_class is ErrorClass.AUTH:
            self._set_auth_error(exc.title, exc.service)
        elif exc.service != "plex":
            # Stash is down mid-job (a poster download): wait a poll interval without
            # counting against Plex's breaker or the job's attempts.
            self._note_error(exc.service, exc.title)
            if error_class is ErrorClass.UNREACHABLE:
                self._plex_hold_until = self._clock.monotonic() + self._config.poll_interval
        elif error_class in (ErrorClass.UNREACHABLE, ErrorClass.TRANSIENT):
            self.breaker.record_failure()
            self._honour_retry_after(exc)
            if error_class is ErrorClass.UNREACHABLE:
                self._plex_hold_until = self._clock.monotonic() + self._config.poll_interval
                self._pusher.refresh_index()  # Plex may come back with other items
            self._note_error("plex", exc.title)
            logger.info("Plex call failed: %s", exc)

    def _plex_answered(self, *, ok: bool, down: bool = False) -> None:
        """A real Plex call answered: a pending check (after a reset or retry) is over."""
        if not self._plex_checking:
            return
        after_reset = self._check_after_reset
        self._plex_checking = self._check_after_reset = False
        if not after_reset:
            return  # a retry's probe: the breaker's own transition says what happened
        if ok:
            self._store.outage_ended(self._clock.now())
            logger.info("Plex answered after the reset: Plex is back")
        elif down and self.breaker.state is CircuitState.CLOSED:
            logger.warning("Plex did not answer after the reset; waiting for it again")
            self.breaker.trip()  # the reset's try failed: back to waiting for recovery

    def _honour_retry_after(self, exc: SyncError) -> None:
        """Plex asked for a pause (429 or 503 with Retry-After): no new request before it ends."""
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after > 0:
            until = self._clock.monotonic() + min(float(retry_after), MAX_RETRY_AFTER)
            self._plex_hold_until = max(self._plex_hold_until, until)

    def _note_error(self, service: str, text: str) -> None:
        self._last_error, self._last_error_service = text, service

    def _clear_error(self, service: str) -> None:
        """A call to `service` worked: its last error no longer describes the present."""
        if self._last_error_service == service:
            self._last_error = self._last_error_service = None

    def _set_auth_error(self, message: str, service: str) -> None:
        self._auth_service = service
        self._next_auth_check_at = self._clock.monotonic() + self._config.poll_interval
        if self._auth_error == message:
            return
        self._auth_error = message
        if message == self._auth_notified:
            # The check passed but the real work was refused again (e.g. a token without
            # rights to the library): stay paused without a notice every poll interval.
            logger.debug("%s again", message)
            return
        self._auth_notified = message
        logger.warning(
            "%s; syncing is paused and the credentials are tried again every %g s "
            "(or `plexsync resume`)",
            message,
            self._config.poll_interval,
        )
        self._listener.auth_failed(service, message)

    def _clear_auth_error(self, *, by_user: bool = False) -> None:
        self._auth_error = self._auth_service = None
        if by_user:
            self._auth_notified = None  # a person asked: tell them if it fails again

    def _check_plex_auth(self) -> None:
        """Paused for Plex's credentials: one cheap probe per poll interval, resume if it works."""
        if self._auth_service != "plex" or self._clock.monotonic() < self._next_auth_check_at:
            return
        self._next_auth_check_at = self._clock.monotonic() + self._config.poll_interval
        try:
            self._plex_client().probe()
        except SyncError as exc:
            if exc.error_class is not ErrorClass.AUTH:
                logger.debug("Checking Plex's credentials failed: %s", exc)
            return
        logger.info("Plex accepts the credentials again; syncing resumes")
        self._clear_auth_error()
        self._clear_error("plex")

    # --- storage errors ------------------------------------------------------------------------

    def _on_storage_error(self, exc: sqlite3.Error) -> float:
        message = describe_storage_error(exc)
        if message != self._engine_error:
            logger.warning("%s; syncing waits and tries again every %g s", message, STORAGE_RETRY)
        else:
            logger.debug("The database still fails: %s", exc)
        self._engine_error = message
        self._dead_batch.clear()  # their DLQ rows rolled back; they are retried, not lost
        self._publish()
        return STORAGE_RETRY

    def _storage_recovered(self) -> None:
        """The first tick after a storage error: give back what the failed tick had claimed."""
        requeued = self._store.requeue_in_progress()
        logger.info(
            "The database can be written again; syncing resumes (%d job(s) requeued)", requeued
        )
        self._engine_error = None
