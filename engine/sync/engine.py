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
from engine.events import NULL_LISTENER, EngineStatus, SyncListener
from engine.live.follow_ups import StreamStates
from engine.live.messages import LiveEvent, LiveSignal
from engine.live.processing import NewItemWatch
from engine.poll.scheduler import PollScheduler
from engine.push.dispatch import JobRunner, Lanes
from engine.push.index_follow import META_KEY as INDEX_KEY
from engine.push.pusher import ScenePusher
from engine.store.jobs import JobStore
from engine.sync.clients import PlexFactory, ServerClients, StashFactory
from engine.sync.command_bodies import CommandHandler
from engine.sync.command_queue import CommandQueue
from engine.sync.failures import ServiceState
from engine.sync.first_sync import PLAN_KEY, first_sync_plan
from engine.sync.progress import BulkProgress
from engine.sync.run_counts import RunCounts
from engine.sync.settling import JobSettler
from engine.sync.stash_polling import StashPolling
from engine.sync.status import read_status
from engine.wakeup import WakeWatch

logger = logging.getLogger(__name__)

T = TypeVar("T")
PURGE_EVERY = DAY
HEARTBEAT_EVERY = 60.0  # seconds between run-interval updates (a crash loses at most this)


class SyncEngine:
    """The loop, and the composer of its collaborators (each owns its own state):

    - `ServiceState` (`failures.py`): errors, holds, sign-in and user pauses, Stash's health;
    - `StashPolling` (`stash_polling.py`): drives the poll and reads its outcome;
    - `JobSettler` (`settling.py`): the dispatcher's host, settling each finished job;
    - `CommandHandler` (`command_bodies.py`): what each command does on the engine thread;
    - `ServerClients` and `BulkProgress`: the engine thread's clients, the bulk's progress.

    The engine itself keeps the tick, probing, the library check's slice, the first sync's
    plan, the run's history row, new settings and the status snapshot.
    """

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
        self._listener = listener
        self._config = config
        self._commands = CommandQueue()
        self._stop = threading.Event()
        self._wake = WakeWatch(clock)
        current = self.current_config
        self.breaker = CircuitBreaker(
            config.failure_threshold,
            config.recovery_timeout,
            config.success_threshold,
            clock=clock.now,
            storage=store,
        )
        self.breaker.add_listener(self._on_breaker)
        self._clients = ServerClients(current, plex_factory, stash_factory)
        self._polls = PollScheduler(
            store=store, clock=clock, source=self._clients.stash, config=current
        )
        self._pusher = ScenePusher(clock, store)
        self._new_items = NewItemWatch(clock)  # new Plex items whose writes wait (live_processing)
        self._services = ServiceState(
            store=store,
            clock=clock,
            listener=listener,
            breaker=self.breaker,
            wake=self._wake,
            config=current,
            plex=self._clients.plex,
            on_plex_unreachable=self._pusher.refresh_index,
        )
        self._progress = BulkProgress(clock, listener)
        self._stash_polling = StashPolling(
            polls=self._polls,
            services=self._services,
            progress=self._progress,
            clock=clock,
            wake=self._wake,
            stop=self._stop,
            config=current,
        )
        # A one-shot run does no scheduled work; "Check library now" still works there.
        self._checker = CheckRunner(
            store, clock, listener, scheduled=idle_probes, on_fix=self._pusher.forget_index
        )
        self._settler = JobSettler(
            store=store,
            clock=clock,
            rng=rng or random.Random(),
            listener=listener,
            breaker=self.breaker,
            wake=self._wake,
            stop=self._stop,
            services=self._services,
            clients=self._clients,
            checker=self._checker,
            progress=self._progress,
            config=current,
        )
        self._runner = JobRunner(
            host=self._settler,
            store=store,
            pusher=self._pusher,
            clock=clock,
            lanes=self._make_lanes,
            new_items=self._new_items,
        )
        self._handler = CommandHandler(
            store=store,
            clock=clock,
            breaker=self.breaker,
            services=self._services,
            polls=self._polls,
            pusher=self._pusher,
            clients=self._clients,
            new_items=self._new_items,
            config=current,
        )
        self._streams = StreamStates()
        self._next_purge_at = float("-inf")
        self._run_id: int | None = None  # this run's row in the history (see _note_running)
        self._next_heartbeat_at = float("-inf")
        self._first_sync: str | None = None  # the plan, once said (`_first_sync_waits`)
        self._first_sync_said = False
        self._status: EngineStatus | None = None
        self._settle_pending = False  # a settle window is open: check at once when it ends
        self._services.restore_pause()

    def current_config(self) -> PlexSyncConfig:
        """The settings in force (collaborators ask each time: new settings replace them)."""
        return self._config

    @property
    def counts(self) -> RunCounts:
        """Per-job outcomes since the start, for `run --once`'s closing line."""
        return self._settler.counts

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
        self._submit(self._handler.sync_now)

    def retry_now(self) -> None:
        self._submit(self._handler.retry_now)

    def reset_breaker(self) -> None:
        self._submit(self._handler.reset_breaker)

    def pause(self, until: float | None) -> None:
        self._submit(lambda: self._handler.pause(until))

    def resume(self) -> None:
        self._submit(self._handler.resume)

    def apply_config(self, config: object) -> None:
        if not isinstance(config, PlexSyncConfig):
            raise TypeError("apply_config needs a PlexSyncConfig")
        self._submit(lambda: self._apply_config(config))

    def network_changed(self) -> None:
        """The platform reports a network change: settle, then check at once."""
        self._submit(self._wake.network_changed)

    def live_signal(self, event: LiveEvent) -> None:
        """Plex or Stash reported a change (any thread); a burst of signals folds into one
        command. Plex's news of items being processed is taken in order, message by message."""
        handler = self._handler
        if not isinstance(event, LiveSignal):
            if handler.plex_news.offer(event):
                self._submit(handler.take_plex_news)
        elif handler.live_gate.offer(event):
            self._submit(lambda: handler.live_signal(event))

    def live_state(self, stream: str, reason: str | None) -> None:
        """A stream went off (`reason`) or live again (None), any thread: shown in the status."""
        if self._streams.set(stream, reason):
            self._submit(self._publish)

    def dlq_retry(self, entry_ids: list[int] | None) -> None:
        self._submit(lambda: self._handler.dlq_retry(entry_ids))

    def dlq_confirm(self, entry_id: int) -> None:
        """The user says a possible match's candidate is the scene's file (the tray's button)."""
        self._submit(lambda: self._handler.dlq_confirm(entry_id))

    def dlq_delete(self, entry_ids: list[int] | None) -> None:
        self._submit(lambda: self._handler.dlq_delete(entry_ids))

    def dlq_purge(self, older_than_days: float) -> None:
        self._submit(lambda: self._handler.purge(older_than_days))

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
            delay = self._services.storage_failed(exc)
            self._settler.forget_dead_letters()  # their DLQ rows rolled back: retried, not lost
            self._publish()
            return delay

    def _tick(self, budget: float) -> float:
        self._commands.run_pending()
        if self._stop.is_set():
            return 0.0
        services = self._services
        self._handler.run_follow_ups()
        if services.engine_error is not None:
            services.storage_recovered()
        self._check_wake()
        now = self._clock.now()
        self._note_running(now)
        if now >= self._next_purge_at:
            self._handler.purge(self._config.dlq_retention_days)
            self._next_purge_at = now + PURGE_EVERY
        if services.pause_ended(now):
            self._handler.resume()
        more = False
        if self._config.is_configured and not services.paused:
            services.check_plex_auth()
            self._stash_polling.maybe_poll()
            self._handler.release_processed(self._new_items.due())
            if services.auth_error is None and not self._stop.is_set():
                # Jobs get their own budget after the poll's pages: a busy Stash never starves them.
                more = self._plex_work(self._clock.monotonic() + budget)
                more = self._check_work() or more
            more = more or self._polls.busy
        self._settler.flush_dead_letters()
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
        self._services.probe_now()

    def _idle_delay(self) -> float:
        now = self._clock.now()
        mono = self._clock.monotonic()
        services = self._services
        candidates = [self._config.poll_interval]
        if self._settle_pending:
            candidates.append(self._wake.settle_until - mono)
        active = self._config.is_configured and not services.paused
        if active:
            candidates.append(self._polls.next_at - mono)
            if services.auth_error is not None and services.auth_service == "plex":
                candidates.append(services.next_auth_check_at - mono)
        if active and services.auth_error is None:
            hold = services.plex_hold_until
            if self._idle_probes and self.breaker.state is CircuitState.CLOSED:
                candidates.append(max(services.next_probe_at, hold) - mono)
            retry_at = self.breaker.retry_at
            if retry_at is not None:
                candidates.append(retry_at - now)
            ready = self._store.next_ready_at()
            if ready is not None and self.breaker.state is not CircuitState.OPEN:
                candidates.append(max(ready - now, hold - mono))
            follow_up = self._handler.follow_ups.next_due()
            if follow_up is not None:
                candidates.append(follow_up - mono)
            processed_by = self._new_items.next_due()
            if processed_by is not None:
                candidates.append(processed_by - mono)
        if services.paused and services.paused_until is not None:
            candidates.append(services.paused_until - now)
        return max(0.0, min(candidates))

    # --- new settings --------------------------------------------------------------------------

    def _apply_config(self, config: PlexSyncConfig) -> None:
        """New settings (engine thread): everything built from the old ones follows."""
        old = self._config
        self._config = config
        self.breaker.configure(
            config.failure_threshold, config.recovery_timeout, config.success_threshold
        )
        self._runner.aimd.configure(config.max_in_flight)
        self._settler.configure(config)
        self._close_clients()
        self._checker.reset_sources()
        if (old.plex_url, old.plex_libraries) != (config.plex_url, config.plex_libraries):
            self._pusher.forget_index()
        if old.plex_url != config.plex_url:
            self._store.forget_pushed()
            self._store.known_clear()
        self._services.clear_auth_error(by_user=True)
        self._services.forget_errors()
        self._polls.poll_soon()
        self._services.release_plex()
        logger.info("New settings applied")

    # --- library check -------------------------------------------------------------------------

    def _check_work(self) -> bool:
        """A slice of a library check, while Plex is healthy; True if it has more to do."""
        services = self._services
        if self.breaker.state is not CircuitState.CLOSED or services.auth_error:
            return False
        if self._stop.is_set() or services.plex_held:
            return False
        ready = self._store.next_ready_at()
        idle = ready is None or ready > self._clock.now()
        if not self._checker.wanted(self._config, queue_idle=idle):
            return False
        return self._checker.work(
            plex=self._clients.plex(),
            stash=self._clients.stash(),
            config=self._config,
            on_failure=self._on_check_failure,
        )

    def _on_check_failure(self, exc: SyncError) -> None:
        if exc.service == "stash":
            self._stash_polling.on_error(exc)
        else:
            self._services.on_failure(exc)

    # --- Plex ----------------------------------------------------------------------------------

    def _plex_work(self, deadline: float) -> bool:
        """Probe or process jobs as the breaker allows; True if ready work is left."""
        state = self.breaker.state
        if state is CircuitState.OPEN or self._services.plex_held:
            return False
        if state is CircuitState.HALF_OPEN:
            self._probe()
            if self.breaker.state is CircuitState.OPEN or self._services.auth_error:
                return False
        if self._first_sync_waits():
            return False
        processed, more = self._runner.run(deadline)
        probe_due = self._clock.monotonic() >= self._services.next_probe_at
        if not processed and self._idle_probes and probe_due:
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
            index = self._pusher.index_for(self._clients.plex(), self._config)
        except SyncError as exc:
            if exc.error_class is not ErrorClass.AUTH:
                return False  # the jobs meet it too, and count it (retries, breaker, DLQ)
            self._services.on_failure(exc)  # paused: the jobs are held back, not one by one
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
        services = self._services
        services.next_probe_at = self._clock.monotonic() + self._config.poll_interval
        try:
            self._clients.plex().probe()
        except SyncError as exc:
            services.on_failure(exc)
            return
        self.breaker.record_success()
        services.plex_answered(ok=True)
        services.last_checked_at = self._clock.now()  # Plex answered the idle probe
        services.clear_error("plex")

    # --- breaker events and status -------------------------------------------------------------

    def _on_breaker(self, old: CircuitState, new: CircuitState) -> None:
        now = self._clock.now()
        if new is CircuitState.OPEN:
            self._store.outage_started(now)
            logger.warning("Plex looks down; the circuit breaker opened")
        elif new is CircuitState.CLOSED and self._services.resetting:
            self._services.release_plex()
            logger.info("Circuit breaker reset; checking Plex")
        elif new is CircuitState.CLOSED:
            self._store.outage_ended(now)
            self._services.release_plex()
            logger.info("Plex is back; the circuit breaker closed")
        self._listener.breaker_changed(old, new)
        # Publish now: HALF_OPEN may last only as long as the probe inside this tick.
        self._publish()

    def _make_status(self) -> EngineStatus:
        services = self._services
        status = read_status(
            self._store,
            self.breaker.snapshot(),
            now=self._clock.now(),
            configured=self._config.is_configured,
            paused=services.paused,
            paused_until=services.paused_until,
            auth_error=services.auth_error,
            auth_service=services.auth_service,
            last_error=services.last_error,
            progress=self._progress.current,
            running=not self._stop.is_set(),
            engine_error=services.engine_error,
            stash_health=services.stash_health,
            stash_error=services.stash_error,
            plex_checking=services.plex_checking,
            last_checked_at=services.last_checked_at,
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
            status = replace(self._status, engine_error=self._services.engine_error)
        if status != self._status:
            self._status = status
            self._listener.status_changed(status)

    def _make_lanes(self) -> Lanes:
        return Lanes(self._config, self._clients.plex_factory, self._clients.stash_factory)

    def _close_clients(self) -> None:
        self._runner.close()
        self._clients.close()
        self._polls.forget_source()
