"""The sync engine: Stash changes reach Plex through the breaker, the queue, retries and the DLQ.

No Qt, one thread. A host calls `tick()` again and again (a QTimer in the tray, a loop in the
CLI); each tick does a bounded amount of work and says how long until the next one is useful.
Commands from other threads are queued and run at the start of a tick, so they never race the
job in hand. Every Plex call goes through the breaker; while it is OPEN nothing is sent.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import TypeVar

from engine.breaker import CircuitBreaker, CircuitState
from engine.check.runner import CheckRunner
from engine.clock import DAY, SYSTEM_CLOCK, Clock
from engine.config.file import PlexSyncConfig
from engine.errors import ErrorClass, SyncError
from engine.events import (
    NULL_LISTENER,
    EngineStatus,
    JobOutcome,
    Progress,
    ServiceHealth,
    SyncListener,
)
from engine.live.follow_ups import FollowUpLimiter, NewsBuffer, StreamStates
from engine.live.messages import LiveEvent, LiveSignal
from engine.live.processing import NewItemWatch
from engine.plex.target import PlexTarget
from engine.poll.scheduler import PollScheduler
from engine.push.dispatch import JobRunner, Lanes
from engine.push.index_follow import META_KEY as INDEX_KEY
from engine.push.pusher import ScenePusher
from engine.retry import RetryPolicy
from engine.stash.source import StashSource
from engine.store.jobs import JobStore
from engine.sync.command_bodies import CommandBodies
from engine.sync.command_queue import CommandQueue
from engine.sync.failures import ServiceAnswers
from engine.sync.first_sync import PLAN_KEY, first_sync_plan
from engine.sync.live_catchup import SignalGate
from engine.sync.run_counts import RunCounts
from engine.sync.settling import JobOutcomes
from engine.sync.stash_polling import StashSide
from engine.sync.status import read_status
from engine.wakeup import WakeWatch

logger = logging.getLogger(__name__)

BATCH = 50  # jobs claimed per dequeue
T = TypeVar("T")
PURGE_EVERY = DAY
HEARTBEAT_EVERY = 60.0  # seconds between run-interval updates (a crash loses at most this)


PlexFactory = Callable[[PlexSyncConfig], PlexTarget]
StashFactory = Callable[[PlexSyncConfig], StashSource]


# ServiceAnswers comes first: JobOutcomes only declares the hooks it calls (as stubs).
class SyncEngine(ServiceAnswers, StashSide, CommandBodies, JobOutcomes):
    def __init__(
        self,
        *,
        config: PlexSyncConfig,
        store: JobStore,
        plex_factory: PlexFactory,
        stash_factory: StashFactory,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        listener: SyncListener = NULL_LISTENER,
        idle_probes: bool = True,
    ) -> None:
        self._store = store
        # A long-running engine probes Plex when idle so the breaker shows the truth; a one-shot
        # run with nothing to do has no reason to contact Plex at all.
        self._idle_probes = idle_probes
        self._clock = clock
        self._rng = rng or random.Random()
        self._listener = listener
        self._plex_factory = plex_factory
        self._stash_factory = stash_factory
        self._commands = CommandQueue()
        self._stop = threading.Event()
        self.breaker = CircuitBreaker(
            config.failure_threshold,
            config.recovery_timeout,
            config.success_threshold,
            clock=clock.now,
            storage=store,
        )
        self.breaker.add_listener(self._on_breaker)
        self._config = config
        self._plex: PlexTarget | None = None
        self._stash: StashSource | None = None
        self._polls = PollScheduler(store=store, clock=clock, source=self._stash_client)
        self._retry = RetryPolicy(
            max_retries=config.max_retries, skip_not_found=config.skip_not_found, rng=self._rng
        )
        self._pusher = ScenePusher(clock, store)
        self._new_items = NewItemWatch(clock)  # new Plex items whose writes wait (live_processing)
        self._after_commit: list[Callable[[], None]] = []  # see `JobOutcomes.committed`
        self._runner = JobRunner(
            host=self,
            store=store,
            pusher=self._pusher,
            clock=clock,
            lanes=self._make_lanes,
            new_items=self._new_items,
        )
        self._next_probe_at = float("-inf")
        self._plex_hold_until = float("-inf")  # after an unreachable Plex, wait a poll interval
        self._next_purge_at = float("-inf")
        self._paused = False
        self._paused_until: float | None = None
        self._auth_error: str | None = None
        self._auth_service: str | None = None
        self._auth_notified: str | None = None  # told once, until a write works or a user acts
        self._next_auth_check_at = float("-inf")  # paused for auth: when to try the creds again
        self._engine_error: str | None = None  # storage is failing; ticks retry until it works
        self._last_error: str | None = None
        self._stash_health = ServiceHealth.UNKNOWN
        self._stash_error: str | None = None
        self._last_checked_at: float | None = None  # last successful poll or Plex answer
        self._run_id: int | None = None  # this run's row in the history (see _note_running)
        self._next_heartbeat_at = float("-inf")
        self._plex_checking = False  # a reset or retry waits for a real Plex answer
        self._check_after_reset = False  # that check decides whether Plex is back
        self._resetting = False
        self._last_error_service: str | None = None
        self._bulk_total = 0
        self._bulk_done = 0
        self.counts = RunCounts()  # per-job outcomes, for `run --once`'s closing line
        self._bulk_started = 0.0
        self._progress: Progress | None = None
        self._first_sync: str | None = None  # the plan, once said (`_first_sync_waits`)
        self._first_sync_said = False
        self._dead_batch: list[JobOutcome] = []
        self._status: EngineStatus | None = None
        self._wake = WakeWatch(clock)
        self._settle_pending = False  # a settle window is open: check at once when it ends
        self._live_gate = SignalGate()
        self._follow_ups = FollowUpLimiter(clock)  # one poll / one listing per few seconds
        self._plex_news = NewsBuffer()
        self._streams = StreamStates()
        # A one-shot run does no scheduled work; "Check library now" still works there.
        self._checker = CheckRunner(
            store, clock, listener, scheduled=idle_probes, on_fix=self._pusher.forget_index
        )
        self._restore_pause()

    # --- commands (any thread) -----------------------------------------------------------------

    def add_wake_callback(self, callback: Callable[[], None]) -> None:
        self._commands.add_wake_callback(callback)

    def wake(self) -> None:
        self._commands.wake()

    def execute(self, command: Callable[[], T]) -> Future[T]:
        """Run `command` on the engine thread at its next tick; the future holds its result."""
        return self._commands.execute(command)

    def _submit(self, command: Callable[[], None]) -> None:
        self._commands.submit(command)

    def sync_now(self) -> None:
        self._submit(self._do_sync_now)

    def retry_now(self) -> None:
        self._submit(self._do_retry_now)

    def reset_breaker(self) -> None:
        self._submit(self._do_reset_breaker)

    def pause(self, until: float | None) -> None:
        self._submit(lambda: self._do_pause(until))

    def resume(self) -> None:
        self._submit(self._do_resume)

    def apply_config(self, config: object) -> None:
        if not isinstance(config, PlexSyncConfig):
            raise TypeError("apply_config needs a PlexSyncConfig")
        self._submit(lambda: self._do_apply_config(config))

    def network_changed(self) -> None:
        """The platform reports a network change: settle, then check at once."""
        self._submit(self._wake.network_changed)

    def live_signal(self, event: LiveEvent) -> None:
        """Plex or Stash reported a change (any thread); a burst of signals folds into one
        command. Plex's news of items being processed is taken in order, message by message."""
        if not isinstance(event, LiveSignal):
            if self._plex_news.offer(event):
                self._submit(self._on_plex_news)
        elif self._live_gate.offer(event):
            self._submit(lambda: self._on_live_signal(event))

    def live_state(self, stream: str, reason: str | None) -> None:
        """A stream went off (`reason`) or live again (None), any thread: shown in the status."""
        if self._streams.set(stream, reason):
            self._submit(self._publish)

    def dlq_retry(self, entry_ids: list[int] | None) -> None:
        self._submit(lambda: self._do_dlq_retry(entry_ids))

    def dlq_confirm(self, entry_id: int) -> None:
        """The user says a possible match's candidate is the scene's file (the tray's button)."""
        self._submit(lambda: self._do_dlq_confirm(entry_id))

    def dlq_delete(self, entry_ids: list[int] | None) -> None:
        self._submit(lambda: self._do_dlq_delete(entry_ids))

    def dlq_purge(self, older_than_days: float) -> None:
        self._submit(lambda: self._purge(older_than_days))

    def check_now(self) -> None:
        """Start a library check (or keep the one running)."""
        self.execute(self._checker.request)

    def check_fix(self, scene_ids: list[str] | None) -> None:
        """Queue the last check's findings (None = all) as jobs."""
        self.execute(lambda: self._checker.fix(scene_ids))

    def check_cancel(self) -> None:
        self._submit(self._checker.cancel)

    @property
    def checker(self) -> CheckRunner:
        """For commands run on the engine thread (`execute`) and the control channel."""
        return self._checker

    def request_stop(self) -> None:
        """Ask the engine to stop: the tick in progress returns after the call in hand."""
        self._stop.set()
        self.wake()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def store(self) -> JobStore:
        return self._store

    @property
    def config(self) -> PlexSyncConfig:
        return self._config

    def status(self) -> EngineStatus:
        return self._status or self._make_status()

    def publish_status(self) -> None:
        """Take a fresh snapshot now (engine thread), e.g. right after a command ran."""
        self._publish()

    # --- the loop ------------------------------------------------------------------------------

    def tick(self, budget: float = 0.5) -> float:
        """A few pages of a poll, then `budget` seconds of jobs; returns seconds to the next."""
        try:
            return self._tick(budget)
        except sqlite3.Error as exc:
            # Disk full, a lock held too long, a read-only data dir: wait and try again. The
            # transaction in hand rolled back, so nothing is lost; jobs claimed then are
            # queued again once the database can be written.
            return self._on_storage_error(exc)

    def _tick(self, budget: float) -> float:
        self._commands.run_pending()
        if self._stop.is_set():
            return 0.0
        self._live_follow_ups()
        if self._engine_error is not None:
            self._storage_recovered()
        self._check_wake()
        now = self._clock.now()
        self._note_running(now)
        if now >= self._next_purge_at:
            self._purge(self._config.dlq_retention_days)
            self._next_purge_at = now + PURGE_EVERY
        if self._paused and self._paused_until is not None and now >= self._paused_until:
            self._do_resume()
        more = False
        if self._config.is_configured and not self._paused:
            self._check_plex_auth()
            self._maybe_poll()
            self._release_processed(self._new_items.due())
            if self._auth_error is None and not self._stop.is_set():
                # Jobs get their own budget after the poll's pages: a busy Stash never starves them.
                more = self._plex_work(self._clock.monotonic() + budget)
                more = self._check_work() or more
            more = more or self._polls.busy
        self._flush_dead_letters()
        self._publish()
        return 0.0 if more else self._idle_delay()

    def run(self, *, sleep: Callable[[float], object] | None = None) -> None:
        """Tick until `request_stop()`; the wait between ticks is interruptible."""
        wake = threading.Event()
        self.add_wake_callback(wake.set)
        wait = sleep or wake.wait
        while not self._stop.is_set():
            delay = self.tick()
            if delay > 0 and not self._stop.is_set():
                wait(delay)
                wake.clear()

    def close(self) -> None:
        self._close_clients()
        self._checker.close()
        if self._run_id is not None:
            try:  # a clean stop ends the run exactly; a crash ends it at the last heartbeat
                self._store.run_heartbeat(self._run_id, self._clock.now())
            except sqlite3.Error:
                logger.warning("Could not record the end of this run", exc_info=True)

    def _note_running(self, now: float) -> None:
        """Record the time the engine runs, so history never claims time it did not watch."""
        if self._run_id is None:
            self._run_id = self._store.run_started(now)
            self._next_heartbeat_at = now + HEARTBEAT_EVERY
        elif now >= self._next_heartbeat_at:
            self._store.run_heartbeat(self._run_id, now)
            self._next_heartbeat_at = now + HEARTBEAT_EVERY

    def _check_wake(self) -> None:
        """After a resume or a network change, check at once; when the settle ends, again."""
        reason = self._wake.check()
        if reason is not None:
            logger.info("%s: failures do not count for a while; checking now", reason.capitalize())
            self._settle_pending = True
        elif self._settle_pending and not self._wake.settling:
            logger.info("Settled after the wake; checking now")
            self._settle_pending = False
        else:
            return
        self._polls.poll_soon()
        self._next_probe_at = self._plex_hold_until = float("-inf")

    def _hold_while_settling(self) -> None:
        """A failure inside the settle window: no breaker count, no error, retry when it ends."""
        self._plex_hold_until = self._next_probe_at = self._wake.settle_until

    def _idle_delay(self) -> float:
        now = self._clock.now()
        mono = self._clock.monotonic()
        candidates = [self._config.poll_interval]
        if self._settle_pending:
            candidates.append(self._wake.settle_until - mono)
        if self._config.is_configured and not self._paused:
            candidates.append(self._polls.next_at - mono)
            if self._auth_error is not None and self._auth_service == "plex":
                candidates.append(self._next_auth_check_at - mono)
        if self._config.is_configured and not self._paused and self._auth_error is None:
            if self._idle_probes and self.breaker.state is CircuitState.CLOSED:
                candidates.append(max(self._next_probe_at, self._plex_hold_until) - mono)
            retry_at = self.breaker.retry_at
            if retry_at is not None:
                candidates.append(retry_at - now)
            ready = self._store.next_ready_at()
            if ready is not None and self.breaker.state is not CircuitState.OPEN:
                candidates.append(max(ready - now, self._plex_hold_until - mono))
            follow_up = self._follow_ups.next_due()
            if follow_up is not None:
                candidates.append(follow_up - mono)
            processed_by = self._new_items.next_due()
            if processed_by is not None:
                candidates.append(processed_by - mono)
        if self._paused and self._paused_until is not None:
            candidates.append(self._paused_until - now)
        return max(0.0, min(candidates))

    # --- bulk progress ------------------------------------------------------------------------

    def _start_bulk(self, added: int) -> None:
        if self._progress is None or self._bulk_done >= self._bulk_total:
            self._bulk_total, self._bulk_done = 0, 0
            self._bulk_started = self._clock.monotonic()
        self._bulk_total += added
        self._update_progress()

    def _update_progress(self) -> None:
        if self._bulk_total < 2:
            self._set_progress(None)
            return
        elapsed = self._clock.monotonic() - self._bulk_started
        rate = self._bulk_done / elapsed if elapsed > 0 and self._bulk_done else 0.0
        if self._bulk_done >= self._bulk_total:
            self._bulk_total = self._bulk_done = 0
            self._set_progress(None)
        else:
            self._set_progress(Progress(self._bulk_done, self._bulk_total, rate))

    def _set_progress(self, progress: Progress | None) -> None:
        if progress != self._progress:
            self._progress = progress
            self._listener.progress_changed(progress)

    # --- library check -------------------------------------------------------------------------

    def _check_work(self) -> bool:
        """A slice of a library check, while Plex is healthy; True if it has more to do."""
        if self.breaker.state is not CircuitState.CLOSED or self._auth_error or self._stop.is_set():
            return False
        if self._clock.monotonic() < self._plex_hold_until:
            return False
        ready = self._store.next_ready_at()
        idle = ready is None or ready > self._clock.now()
        if not self._checker.wanted(self._config, queue_idle=idle):
            return False
        return self._checker.work(
            plex=self._plex_client(),
            stash=self._stash_client(),
            config=self._config,
            on_failure=self._on_check_failure,
        )

    def _on_check_failure(self, exc: SyncError) -> None:
        if exc.service == "stash":
            self._on_stash_error(exc)
        else:
            self._on_failure(exc)

    # --- Plex ----------------------------------------------------------------------------------

    def _plex_client(self) -> PlexTarget:
        if self._plex is None:
            self._plex = self._plex_factory(self._config)
        return self._plex

    def _plex_work(self, deadline: float) -> bool:
        """Probe or process jobs as the breaker allows; True if ready work is left."""
        state = self.breaker.state
        if state is CircuitState.OPEN:
            return False
        if self._clock.monotonic() < self._plex_hold_until:
            return False
        if state is CircuitState.HALF_OPEN:
            self._probe()
            if self.breaker.state is CircuitState.OPEN or self._auth_error:
                return False
        if self._first_sync_waits():
            return False
        processed, more = self._runner.run(deadline)
        if not processed and self._idle_probes and self._clock.monotonic() >= self._next_probe_at:
            self._probe()
        return more

    def _first_sync_waits(self) -> bool:
        """Before the very first write: wait until the poll has read Stash, then log and show
        the plan (`engine.sync.first_sync`). True while writes wait for it."""
        if self._first_sync_said:
            return False
        if self._store.has_pushed() or self._store.get_value(PLAN_KEY) is not None:
            self._first_sync_said = True  # not the first sync
            return False
        if self._store.counts().pending == 0:
            return False  # nothing to write yet: probes go on
        if self._polls.reading_scenes:
            return True  # Stash's scenes are still being read: the plan would count part
        try:
            index = self._pusher.index_for(self._plex_client(), self._config)
        except SyncError as exc:
            if exc.error_class is not ErrorClass.AUTH:
                return False  # the jobs meet it too, and count it (retries, breaker, DLQ)
            self._on_failure(exc)  # paused: the jobs are held back, not tried one by one
            return True
        meta = self._store.get_value(INDEX_KEY)
        sections = meta.get("sections", []) if isinstance(meta, dict) else []
        titles = {str(key): str(title) for key, title in sections}
        plan = first_sync_plan(self._store, index, list(self._config.path_mappings), titles)
        self._store.set_value(PLAN_KEY, plan.to_dict())
        self._first_sync, self._first_sync_said = plan.describe(), True
        logger.info("Before writing anything: %s", self._first_sync)
        return False

    def _probe(self) -> None:
        self._next_probe_at = self._clock.monotonic() + self._config.poll_interval
        try:
            self._plex_client().probe()
        except SyncError as exc:
            self._on_failure(exc)
            return
        self.breaker.record_success()
        self._plex_answered(ok=True)
        self._last_checked_at = self._clock.now()  # Plex answered the idle probe
        self._clear_error("plex")

    # --- breaker events and status -------------------------------------------------------------

    def _on_breaker(self, old: CircuitState, new: CircuitState) -> None:
        now = self._clock.now()
        if new is CircuitState.OPEN:
            self._store.outage_started(now)
            logger.warning("Plex looks down; the circuit breaker opened")
        elif new is CircuitState.CLOSED and self._resetting:
            self._plex_hold_until = float("-inf")
            logger.info("Circuit breaker reset; checking Plex")
        elif new is CircuitState.CLOSED:
            self._store.outage_ended(now)
            self._plex_hold_until = float("-inf")
            logger.info("Plex is back; the circuit breaker closed")
        self._listener.breaker_changed(old, new)
        # Publish now: HALF_OPEN may last only as long as the probe inside this tick.
        self._publish()

    def _make_status(self) -> EngineStatus:
        status = read_status(
            self._store,
            self.breaker.snapshot(),
            now=self._clock.now(),
            configured=self._config.is_configured,
            paused=self._paused,
            paused_until=self._paused_until,
            auth_error=self._auth_error,
            auth_service=self._auth_service,
            last_error=self._last_error,
            progress=self._progress,
            running=not self._stop.is_set(),
            engine_error=self._engine_error,
            stash_health=self._stash_health,
            stash_error=self._stash_error,
            plex_checking=self._plex_checking,
            last_checked_at=self._last_checked_at,
        )
        return replace(
            status,
            check=self._checker.progress,
            first_sync=self._first_sync,
            live_error=self._streams.summary(),
        )

    def _publish(self) -> None:
        try:
            status = self._make_status()
        except sqlite3.Error:
            if self._status is None:
                return
            # Counts cannot be read now: show the last ones with the error that explains why.
            status = replace(self._status, engine_error=self._engine_error)
        if status != self._status:
            self._status = status
            self._listener.status_changed(status)

    def _make_lanes(self) -> Lanes:
        return Lanes(self._config, self._plex_factory, self._stash_factory)

    def _close_clients(self) -> None:
        self._runner.close()
        for client in (self._plex, self._stash):
            if client is not None:
                try:
                    client.close()
                except Exception:
                    logger.debug("Closing a client failed", exc_info=True)
        self._plex = None
        self._stash = None
        self._polls.forget_source()
