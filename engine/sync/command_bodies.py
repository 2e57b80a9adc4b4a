"""What the engine's commands do, on the engine thread, between jobs.

A mixin of `SyncEngine` (split out of `engine/sync/engine.py` for size): `SyncEngine`'s public
methods queue these bodies from any thread, and a tick runs them before its work, so a command
never races the job in hand.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from engine.breaker import CircuitBreaker, CircuitState
from engine.check.runner import CheckRunner
from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import SyncError
from engine.events import ServiceHealth
from engine.live.follow_ups import FollowUpLimiter, NewsBuffer
from engine.live.messages import LiveSignal
from engine.live.processing import NewItemWatch
from engine.plex.target import PlexTarget
from engine.poll.scheduler import PollScheduler
from engine.push.dispatch import JobRunner
from engine.push.pusher import ScenePusher
from engine.retry import RetryPolicy
from engine.store.jobs import JobStore
from engine.sync.live_catchup import SignalGate, ready_found

logger = logging.getLogger(__name__)


class CommandBodies:
    """The bodies of `SyncEngine`'s commands; `SyncEngine` provides the state below."""

    _store: JobStore
    _config: PlexSyncConfig
    _clock: Clock
    _rng: random.Random
    _polls: PollScheduler
    _pusher: ScenePusher
    _runner: JobRunner
    _retry: RetryPolicy
    _checker: CheckRunner
    _live_gate: SignalGate
    _follow_ups: FollowUpLimiter
    _plex_news: NewsBuffer
    _new_items: NewItemWatch
    breaker: CircuitBreaker
    _plex_hold_until: float
    _plex_checking: bool
    _check_after_reset: bool
    _next_probe_at: float
    _resetting: bool
    _paused: bool
    _paused_until: float | None
    _auth_error: str | None
    _last_error: str | None
    _last_error_service: str | None
    _stash_health: ServiceHealth
    _stash_error: str | None
    _close_clients: Callable[[], None]

    def _clear_auth_error(self, *, by_user: bool = False) -> None:
        raise NotImplementedError

    def _plex_client(self) -> PlexTarget:
        raise NotImplementedError

    def _on_failure(self, exc: SyncError) -> None:
        raise NotImplementedError

    def _do_sync_now(self) -> None:
        self._clear_auth_error(by_user=True)
        self._polls.poll_soon()
        self._plex_hold_until = float("-inf")

    def _do_retry_now(self) -> None:
        self._clear_auth_error(by_user=True)
        self._plex_hold_until = float("-inf")
        self._plex_checking = True
        self.breaker.half_open_now()
        self._store.release_all_waiting()

    def _do_reset_breaker(self) -> None:
        """ "Try again now": closed, and Plex is asked at once; only its answer says it is back."""
        self._plex_hold_until = float("-inf")
        self._next_probe_at = float("-inf")
        self._plex_checking = self._check_after_reset = True
        self._resetting = True
        try:
            self.breaker.reset()
        finally:
            self._resetting = False

    def _do_pause(self, until: float | None) -> None:
        self._paused, self._paused_until = True, until
        # A timed pause survives a restart; "until restart" by definition does not.
        self._store.set_value("paused_until", until)
        logger.info("Syncing paused %s", "until restart" if until is None else "for a while")

    def _do_resume(self) -> None:
        """Ends a pause, including one for rejected credentials: they are tried again now."""
        self._paused, self._paused_until = False, None
        self._clear_auth_error(by_user=True)
        self._polls.poll_soon()
        self._store.set_value("paused_until", None)
        logger.info("Syncing resumed")

    def _restore_pause(self) -> None:
        until = self._store.get_value("paused_until")
        if isinstance(until, int | float) and until > self._clock.now():
            self._paused, self._paused_until = True, float(until)

    def _do_apply_config(self, config: PlexSyncConfig) -> None:
        old = self._config
        self._config = config
        self.breaker.configure(
            config.failure_threshold, config.recovery_timeout, config.success_threshold
        )
        self._runner.aimd.configure(config.max_in_flight)
        self._retry = RetryPolicy(
            max_retries=config.max_retries, skip_not_found=config.skip_not_found, rng=self._rng
        )
        self._close_clients()
        self._checker.reset_sources()
        if (old.plex_url, old.plex_libraries) != (config.plex_url, config.plex_libraries):
            self._pusher.forget_index()
        if old.plex_url != config.plex_url:
            self._store.forget_pushed()
            self._store.known_clear()
        self._clear_auth_error(by_user=True)
        self._last_error = self._last_error_service = None
        self._polls.poll_soon()
        self._stash_health, self._stash_error = ServiceHealth.UNKNOWN, None
        self._plex_hold_until = float("-inf")
        logger.info("New settings applied")

    def _on_live_signal(self, signal: LiveSignal) -> None:
        """A live signal asks for its follow-up, which runs at most once per few seconds."""
        self._live_gate.taken(signal)
        self._follow_ups.want(signal)  # the tick runs it when due (`_live_follow_ups`)

    def _live_follow_ups(self) -> None:
        """Run the follow-ups that are due (`engine.live.follow_ups`); each tick looks."""
        for signal in self._follow_ups.take_due():
            self._follow_up(signal)

    def _follow_up(self, signal: LiveSignal) -> None:
        """A Stash job ended: poll now. Plex gained items: retry the scenes it has now."""
        if signal is LiveSignal.STASH_JOB_ENDED:
            self._polls.poll_soon()
            return
        plex_usable = (
            self._config.is_configured
            and not self._paused
            and self._auth_error is None
            and self.breaker.state is CircuitState.CLOSED
            and self._clock.monotonic() >= self._plex_hold_until
        )
        if plex_usable:  # otherwise the jobs' own backoff brings them back
            try:
                ready_found(self._store, self._pusher, self._plex_client(), self._config)
            except SyncError as exc:
                self._on_failure(exc)

    def _on_plex_news(self) -> None:
        """Items Plex is processing: note the new ones, free the writes waiting for the done."""
        for news in self._plex_news.drain():
            self._release_processed(self._new_items.heard(news))

    def _release_processed(self, scene_ids: list[str]) -> None:
        """Their items are processed: the jobs may run, on items read again (the agent wrote)."""
        if scene_ids:
            self._store.make_ready(scene_ids)
            self._pusher.refresh_index()

    def _do_dlq_retry(self, entry_ids: list[int] | None) -> None:
        count = self._store.dlq_retry(entry_ids)
        if count:
            logger.info("%d dead-lettered scene(s) queued again", count)

    def _do_dlq_confirm(self, entry_id: int) -> None:
        count = self._store.dlq_confirm(entry_id)
        if count:
            logger.info("Match confirmed; %d dead-lettered scene(s) queued again", count)
        else:
            logger.warning("Dead-letter entry %d has no possible match to confirm", entry_id)

    def _do_dlq_delete(self, entry_ids: list[int] | None) -> None:
        count = self._store.dlq_delete(entry_ids)
        logger.info("%d dead-letter entr%s deleted", count, "y" if count == 1 else "ies")

    def _purge(self, older_than_days: float) -> None:
        removed = self._store.dlq_purge(older_than_days)
        self._store.activity_purge(older_than_days)  # the same retention as the DLQ
        self._store.prune_history()
        if removed:
            logger.info(
                "Purged %d dead-letter entries older than %s days", removed, older_than_days
            )
