"""What the engine's commands do, on the engine thread, between jobs.

`CommandHandler` is built by `SyncEngine`, whose public methods queue these bodies from any
thread (`engine.sync.command_queue`); a tick runs them before its work, so a command never races
the job in hand. New settings are the engine's own business (`SyncEngine._apply_config`): they
rebuild what the engine composed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from engine.breaker import CircuitBreaker, CircuitState
from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import SyncError
from engine.live.follow_ups import FollowUpLimiter, NewsBuffer
from engine.live.messages import LiveSignal
from engine.live.processing import NewItemWatch
from engine.poll.scheduler import PollScheduler
from engine.push.pusher import ScenePusher
from engine.store.jobs import JobStore
from engine.sync.clients import ServerClients
from engine.sync.failures import ServiceState
from engine.sync.live_catchup import SignalGate, ready_found

logger = logging.getLogger(__name__)


class CommandHandler:
    def __init__(
        self,
        *,
        store: JobStore,
        clock: Clock,
        breaker: CircuitBreaker,
        services: ServiceState,
        polls: PollScheduler,
        pusher: ScenePusher,
        clients: ServerClients,
        new_items: NewItemWatch,
        config: Callable[[], PlexSyncConfig],
    ) -> None:
        self._store = store
        self._clock = clock
        self._breaker = breaker
        self._services = services
        self._polls = polls
        self._pusher = pusher
        self._clients = clients
        self._new_items = new_items
        self._config = config
        self.live_gate = SignalGate()  # folds a burst of one signal into one command
        self.follow_ups = FollowUpLimiter(clock)  # one poll / one listing per few seconds
        self.plex_news = NewsBuffer()

    # --- the breaker, pauses and polls ---------------------------------------------------------

    def sync_now(self) -> None:
        self._services.clear_auth_error(by_user=True)
        self._polls.poll_soon()
        self._services.release_plex()

    def retry_now(self) -> None:
        self._services.clear_auth_error(by_user=True)
        self._services.release_plex()
        self._services.begin_plex_check()
        self._breaker.half_open_now()
        self._store.release_all_waiting()

    def reset_breaker(self) -> None:
        """ "Try again now": closed, and Plex is asked at once; only its answer says it is back."""
        self._services.probe_now()
        self._services.begin_plex_check(after_reset=True)
        self._services.resetting = True
        try:
            self._breaker.reset()
        finally:
            self._services.resetting = False

    def pause(self, until: float | None) -> None:
        self._services.pause(until)

    def resume(self) -> None:
        """Ends a pause (a user's, a timed one's end, or rejected credentials): poll now."""
        self._services.resume()
        self._polls.poll_soon()

    # --- live updates --------------------------------------------------------------------------

    def live_signal(self, signal: LiveSignal) -> None:
        """A live signal asks for its follow-up, which runs at most once per few seconds."""
        self.live_gate.taken(signal)
        self.follow_ups.want(signal)  # the tick runs it when due (`run_follow_ups`)

    def run_follow_ups(self) -> None:
        """Run the follow-ups that are due (`engine.live.follow_ups`); each tick looks."""
        for signal in self.follow_ups.take_due():
            self._follow_up(signal)

    def _follow_up(self, signal: LiveSignal) -> None:
        """A Stash job ended: poll now. Plex gained items: retry the scenes it has now."""
        if signal is LiveSignal.STASH_JOB_ENDED:
            self._polls.poll_soon()
            return
        config = self._config()
        plex_usable = (
            config.is_configured
            and not self._services.paused
            and self._services.auth_error is None
            and self._breaker.state is CircuitState.CLOSED
            and not self._services.plex_held
        )
        if plex_usable:  # otherwise the jobs' own backoff brings them back
            try:
                ready_found(self._store, self._pusher, self._clients.plex(), config)
            except SyncError as exc:
                self._services.on_failure(exc)

    def take_plex_news(self) -> None:
        """Items Plex is processing: note the new ones, free the writes waiting for the done."""
        for news in self.plex_news.drain():
            self.release_processed(self._new_items.heard(news))

    def release_processed(self, scene_ids: list[str]) -> None:
        """Their items are processed: the jobs may run, on items read again (the agent wrote)."""
        if scene_ids:
            self._store.make_ready(scene_ids)
            self._pusher.refresh_index()

    # --- the dead-letter queue -----------------------------------------------------------------

    def dlq_retry(self, entry_ids: list[int] | None) -> None:
        count = self._store.dlq_retry(entry_ids)
        if count:
            logger.info("%d dead-lettered scene(s) queued again", count)

    def dlq_confirm(self, entry_id: int) -> None:
        count = self._store.dlq_confirm(entry_id)
        if count:
            logger.info("Match confirmed; %d dead-lettered scene(s) queued again", count)
        else:
            logger.warning("Dead-letter entry %d has no possible match to confirm", entry_id)

    def dlq_delete(self, entry_ids: list[int] | None) -> None:
        count = self._store.dlq_delete(entry_ids)
        logger.info("%d dead-letter entr%s deleted", count, "y" if count == 1 else "ies")

    def purge(self, older_than_days: float) -> None:
        removed = self._store.dlq_purge(older_than_days)
        self._store.activity_purge(older_than_days)  # the same retention as the DLQ
        self._store.prune_history()
        if removed:
            logger.info(
                "Purged %d dead-letter entries older than %s days", removed, older_than_days
            )
