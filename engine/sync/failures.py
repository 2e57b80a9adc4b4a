"""What the engine knows of Plex and Stash right now: errors, holds, sign-in and user pauses.

`ServiceState` is built by `SyncEngine` and shared with its other collaborators; it is the one
owner of this state. It keeps the breaker's bookkeeping for failed calls, the last error per
service, how long Plex is held back (after an unreachable Plex, a Retry-After, a settle window),
the pause while credentials are rejected (re-checked every poll interval, so it ends by itself),
the user's pause (a timed one survives a restart), Stash's health with its outages, and the wait
while the database cannot be written.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from engine.breaker import CircuitBreaker, CircuitState
from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import ErrorClass, StashQueryError, SyncError
from engine.events import ServiceHealth, SyncListener
from engine.plex.target import PlexTarget
from engine.retry import MAX_RETRY_AFTER
from engine.store.base import describe_storage_error
from engine.store.jobs import JobStore
from engine.wakeup import WakeWatch

logger = logging.getLogger(__name__)

STORAGE_RETRY = 10.0  # seconds between attempts while the database cannot be written
STASH_OUTAGE = (ErrorClass.TRANSIENT, ErrorClass.UNREACHABLE)
STASH_DOWN = (ServiceHealth.UNREACHABLE, ServiceHealth.ERROR)
PAUSE_KEY = "paused_until"  # in the store's key-value table, read back at start


class ServiceState:
    def __init__(
        self,
        *,
        store: JobStore,
        clock: Clock,
        listener: SyncListener,
        breaker: CircuitBreaker,
        wake: WakeWatch,
        config: Callable[[], PlexSyncConfig],
        plex: Callable[[], PlexTarget],
        on_plex_unreachable: Callable[[], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._listener = listener
        self._breaker = breaker
        self._wake = wake
        self._config = config
        self._plex = plex
        self._on_plex_unreachable = on_plex_unreachable  # Plex may come back with other items
        self.plex_hold_until = float("-inf")  # no Plex request before this (monotonic)
        self.next_probe_at = float("-inf")  # the idle probe's next turn (monotonic)
        self.plex_checking = False  # a reset or retry waits for a real Plex answer
        self._check_after_reset = False  # that check decides whether Plex is back
        self.resetting = False  # the breaker's CLOSED comes from a reset, not from Plex
        self.last_error: str | None = None
        self._last_error_service: str | None = None
        self.auth_error: str | None = None
        self.auth_service: str | None = None
        self._auth_notified: str | None = None  # told once, until a write works or a user acts
        self.next_auth_check_at = float("-inf")  # paused for auth: when to try the creds again
        self.engine_error: str | None = None  # storage is failing; ticks retry until it works
        self.stash_health = ServiceHealth.UNKNOWN
        self.stash_error: str | None = None
        self.last_checked_at: float | None = None  # last successful poll or Plex answer
        self.paused = False
        self.paused_until: float | None = None

    # --- holding Plex back ---------------------------------------------------------------------

    @property
    def plex_held(self) -> bool:
        return self._clock.monotonic() < self.plex_hold_until

    def release_plex(self) -> None:
        """Plex may be asked at once (a user's command, a wake, the breaker closing)."""
        self.plex_hold_until = float("-inf")

    def probe_now(self) -> None:
        self.next_probe_at = self.plex_hold_until = float("-inf")

    def hold_while_settling(self) -> None:
        """A failure inside the settle window: no breaker count, no error, retry when it ends."""
        self.plex_hold_until = self.next_probe_at = self._wake.settle_until

    def begin_plex_check(self, *, after_reset: bool = False) -> None:
        """A reset or retry: the next real Plex answer ends it (`plex_answered`); after a reset,
        that answer also decides whether Plex is back."""
        self.plex_checking = True
        if after_reset:
            self._check_after_reset = True

    # --- answers and failures ------------------------------------------------------------------

    def on_failure(self, exc: SyncError) -> None:
        """Breaker and engine bookkeeping for a failed call (the job is handled apart)."""
        error_class = exc.error_class
        if exc.service == "plex":
            down = error_class in (ErrorClass.UNREACHABLE, ErrorClass.TRANSIENT)
            self.plex_answered(ok=False, down=down and not self._wake.settling)
        if error_class in STASH_OUTAGE and self._wake.settling:
            self.hold_while_settling()
        elif error_class is ErrorClass.AUTH:
            self.set_auth_error(exc.title, exc.service)
        elif exc.service != "plex":
            # Stash is down mid-job (a poster download): wait a poll interval without
            # counting against Plex's breaker or the job's attempts.
            self.note_error(exc.service, exc.title)
            if error_class is ErrorClass.UNREACHABLE:
                self.plex_hold_until = self._clock.monotonic() + self._config().poll_interval
        elif error_class in (ErrorClass.UNREACHABLE, ErrorClass.TRANSIENT):
            self._breaker.record_failure()
            self._honour_retry_after(exc)
            if error_class is ErrorClass.UNREACHABLE:
                self.plex_hold_until = self._clock.monotonic() + self._config().poll_interval
                self._on_plex_unreachable()
            self.note_error("plex", exc.title)
            logger.info("Plex call failed: %s", exc)

    def plex_answered(self, *, ok: bool, down: bool = False) -> None:
        """A real Plex call answered: a pending check (after a reset or retry) is over."""
        if not self.plex_checking:
            return
        after_reset = self._check_after_reset
        self.plex_checking = self._check_after_reset = False
        if not after_reset:
            return  # a retry's probe: the breaker's own transition says what happened
        if ok:
            self._store.outage_ended(self._clock.now())
            logger.info("Plex answered after the reset: Plex is back")
        elif down and self._breaker.state is CircuitState.CLOSED:
            logger.warning("Plex did not answer after the reset; waiting for it again")
            self._breaker.trip()  # the reset's try failed: back to waiting for recovery

    def plex_wrote(self) -> None:
        """A write reached Plex: the breaker counts it, and the next auth failure is news."""
        self._auth_notified = None
        self._breaker.record_success()
        self.plex_answered(ok=True)
        self.clear_error("plex")

    def _honour_retry_after(self, exc: SyncError) -> None:
        """Plex asked for a pause (429 or 503 with Retry-After): no new request before it ends."""
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after > 0:
            until = self._clock.monotonic() + min(float(retry_after), MAX_RETRY_AFTER)
            self.plex_hold_until = max(self.plex_hold_until, until)

    def note_error(self, service: str, text: str) -> None:
        self.last_error, self._last_error_service = text, service

    def clear_error(self, service: str) -> None:
        """A call to `service` worked: its last error no longer describes the present."""
        if self._last_error_service == service:
            self.last_error = self._last_error_service = None

    def forget_errors(self) -> None:
        """New settings: the old errors describe other addresses or credentials."""
        self.last_error = self._last_error_service = None
        self.stash_health, self.stash_error = ServiceHealth.UNKNOWN, None

    # --- sign-in pauses ------------------------------------------------------------------------

    def set_auth_error(self, message: str, service: str) -> None:
        self.auth_service = service
        self.next_auth_check_at = self._clock.monotonic() + self._config().poll_interval
        if self.auth_error == message:
            return
        self.auth_error = message
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
            self._config().poll_interval,
        )
        self._listener.auth_failed(service, message)

    def clear_auth_error(self, *, by_user: bool = False) -> None:
        self.auth_error = self.auth_service = None
        if by_user:
            self._auth_notified = None  # a person asked: tell them if it fails again

    def check_plex_auth(self) -> None:
        """Paused for Plex's credentials: one cheap probe per poll interval, resume if it works."""
        if self.auth_service != "plex" or self._clock.monotonic() < self.next_auth_check_at:
            return
        self.next_auth_check_at = self._clock.monotonic() + self._config().poll_interval
        try:
            self._plex().probe()
        except SyncError as exc:
            if exc.error_class is not ErrorClass.AUTH:
                logger.debug("Checking Plex's credentials failed: %s", exc)
            return
        logger.info("Plex accepts the credentials again; syncing resumes")
        self.clear_auth_error()
        self.clear_error("plex")

    # --- Stash's health ------------------------------------------------------------------------

    def stash_answered(self, exc: SyncError | None) -> None:
        """What the last poll says about Stash (the one place its health is set)."""
        if exc is None or isinstance(exc, StashQueryError):
            # A refusal of one request is an answer: Stash is up (its words go to the log).
            self._record_stash_outage(ServiceHealth.OK)
            self.stash_health, self.stash_error = ServiceHealth.OK, None
            return
        health = {
            ErrorClass.AUTH: ServiceHealth.AUTH_FAILED,
            ErrorClass.UNREACHABLE: ServiceHealth.UNREACHABLE,
            ErrorClass.TRANSIENT: ServiceHealth.UNREACHABLE,
        }.get(exc.error_class, ServiceHealth.ERROR)
        self._record_stash_outage(health)
        self.stash_health = health
        self.stash_error = f"{exc.title} ({exc.message})" if exc.message else exc.title

    def _record_stash_outage(self, health: ServiceHealth) -> None:
        """Stash's outages go to the history like Plex's (an answer, even a refusal, ends one)."""
        down = health in STASH_DOWN
        if down == (self.stash_health in STASH_DOWN):
            return
        if down:
            self._store.outage_started(self._clock.now(), "stash")
        else:
            self._store.outage_ended(self._clock.now(), "stash")

    # --- the user's pause ----------------------------------------------------------------------

    def pause(self, until: float | None) -> None:
        self.paused, self.paused_until = True, until
        # A timed pause survives a restart; "until restart" by definition does not.
        self._store.set_value(PAUSE_KEY, until)
        logger.info("Syncing paused %s", "until restart" if until is None else "for a while")

    def resume(self) -> None:
        """Ends a pause, including one for rejected credentials: they are tried again now."""
        self.paused, self.paused_until = False, None
        self.clear_auth_error(by_user=True)
        self._store.set_value(PAUSE_KEY, None)
        logger.info("Syncing resumed")

    def pause_ended(self, now: float) -> bool:
        """A timed pause whose time has come."""
        return self.paused and self.paused_until is not None and now >= self.paused_until

    def restore_pause(self) -> None:
        until = self._store.get_value(PAUSE_KEY)
        if isinstance(until, int | float) and until > self._clock.now():
            self.paused, self.paused_until = True, float(until)

    # --- storage errors ------------------------------------------------------------------------

    def storage_failed(self, exc: sqlite3.Error) -> float:
        """The database failed mid-tick: say so once, and wait `STORAGE_RETRY` seconds."""
        message = describe_storage_error(exc)
        if message != self.engine_error:
            logger.warning("%s; syncing waits and tries again every %g s", message, STORAGE_RETRY)
        else:
            logger.debug("The database still fails: %s", exc)
        self.engine_error = message
        return STORAGE_RETRY

    def storage_recovered(self) -> None:
        """The first tick after a storage error: give back what the failed tick had claimed."""
        requeued = self._store.requeue_in_progress()
        logger.info(
            "The database can be written again; syncing resumes (%d job(s) requeued)", requeued
        )
        self.engine_error = None
