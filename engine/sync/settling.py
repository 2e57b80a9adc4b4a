"""What a finished job means: the host side of `engine.push.dispatch.JobRunner`.

`JobSettler` is built by `SyncEngine` and handed to the runner as its host: the engine thread
settles each job here, in the order the jobs were claimed. What reached Plex is recorded, a
failure is retried, held, dropped or dead-lettered (`RetryPolicy` decides), and the listener
hears of it. It owns the retry policy, the run's tally, the dead letters not yet announced and
the writes that wait for the jobs' transaction to commit.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
from collections.abc import Callable

from engine.breaker import CircuitBreaker, CircuitState
from engine.check.runner import CheckRunner
from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import ErrorClass, PossibleMatchError, SyncError
from engine.events import JobOutcome, SyncListener
from engine.plex.target import PlexTarget
from engine.push.pusher import PosterPending, PushResult
from engine.retry import Action, Decision, RetryPolicy
from engine.stash.scene import ScenePage, Screenshot
from engine.store.activity import ActivityKind, changes_summary
from engine.store.jobs import Job, JobStore, Pushed
from engine.sync.clients import ServerClients
from engine.sync.failures import STASH_OUTAGE, ServiceState
from engine.sync.progress import BulkProgress
from engine.sync.run_counts import RunCounts
from engine.wakeup import WakeWatch

logger = logging.getLogger(__name__)

STASH_WAIT_MAX = 3600.0


def retry_policy(config: PlexSyncConfig, rng: random.Random) -> RetryPolicy:
    return RetryPolicy(
        max_retries=config.max_retries, skip_not_found=config.skip_not_found, rng=rng
    )


class JobSettler:
    def __init__(
        self,
        *,
        store: JobStore,
        clock: Clock,
        rng: random.Random,
        listener: SyncListener,
        breaker: CircuitBreaker,
        wake: WakeWatch,
        stop: threading.Event,
        services: ServiceState,
        clients: ServerClients,
        checker: CheckRunner,
        progress: BulkProgress,
        config: Callable[[], PlexSyncConfig],
    ) -> None:
        self._store = store
        self._clock = clock
        self._rng = rng
        self._listener = listener
        self._breaker = breaker
        self._wake = wake
        self._stop = stop
        self._services = services
        self._clients = clients
        self._checker = checker
        self._progress = progress
        self._config = config
        self._retry = retry_policy(config(), rng)
        self.counts = RunCounts()  # per-job outcomes, for `run --once`'s closing line
        self._after_commit: list[Callable[[], None]] = []  # see `committed`
        self._dead_batch: list[JobOutcome] = []

    def configure(self, config: PlexSyncConfig) -> None:
        """New settings: the retry limits follow them."""
        self._retry = retry_policy(config, self._rng)

    # --- the runner's host protocol ------------------------------------------------------------

    @property
    def config(self) -> PlexSyncConfig:
        return self._config()

    def plex(self) -> PlexTarget:
        return self._clients.plex()

    def fetch_image(self, url: str) -> Screenshot:
        return self._clients.stash().fetch_image(url)

    def may_send(self) -> int:
        """0 while nothing may go to Plex, 1 for a half-open breaker's trial, else the ceiling."""
        blocked = (
            self._stop.is_set()
            or not self._breaker.can_execute()
            or self._services.auth_error is not None
            or self._services.plex_held
        )
        if blocked:
            return 0
        if self._breaker.state is CircuitState.HALF_OPEN:
            return 1
        return self._config().max_in_flight

    def committed(self, *, kept: bool) -> None:
        """The settled jobs' transaction ended: now the writes to the library check's own
        store (another connection, which would wait for ours); dropped if it rolled back."""
        actions, self._after_commit = self._after_commit, []
        if not kept or not actions:
            return
        with self._checker.batch():  # one commit for the group, as for the jobs themselves
            for action in actions:
                action()

    def job_config(self, job: Job) -> tuple[PlexSyncConfig, bool]:
        """The settings for this job, and whether a library check's Fix forces its write."""
        forced = self._checker.forced(job.scene_id)
        return self._checker.config_for(self._config(), forced), forced

    def scenes_by_id(self, ids: list[str]) -> ScenePage:
        """Stash's scenes by id (for the claim on a Plex item, `engine.plan.claims`)."""
        return self._clients.stash().scenes_by_id(ids)

    def prefetch_failed(self, exc: SyncError) -> None:
        if exc.error_class is ErrorClass.AUTH:
            self._services.on_failure(exc)  # paused: the jobs are held back, not tried one by one
        else:
            logger.debug("Reading ahead failed: %s", exc)  # each job meets it and counts it

    def settle(self, job: Job, commit: Callable[[], PushResult]) -> None:
        """A job's requests are done: record what reached Plex, or what the failure means."""
        try:
            with self._store.batch():  # one commit for the job's writes, not one per write
                previous = self._store.pushed(job.scene_id)
                result = commit()
                self._store.complete_pushed(job, result.record)
                self._note_synced(job, previous, result.record)
        except PosterPending as pending:
            self._store.record_pushed(pending.record)  # the metadata is in Plex: never rewrite it
            record, wrote = pending.record, pending.wrote
            self._after_commit.append(
                lambda: self._checker.pushed(job.scene_id, record, wrote=wrote, finished=False)
            )
            self._services.on_failure(pending.cause)
            self._handle_job_failure(job, pending.cause, poster=True)
        except SyncError as exc:
            self._services.on_failure(exc)
            self._handle_job_failure(job, exc)
        except sqlite3.Error:
            raise  # the job is not at fault: the tick waits for storage, the job stays queued
        except Exception as exc:
            logger.error("Unexpected error syncing scene %s", job.scene_id, exc_info=exc)
            wrapped = SyncError("Unexpected error", f"{type(exc).__name__}: {exc}")
            wrapped.error_class = ErrorClass.TRANSIENT
            self._handle_job_failure(job, wrapped)
        else:
            self._pushed(job, result)

    # --- dead letters, announced once per tick -------------------------------------------------

    def flush_dead_letters(self) -> None:
        if self._dead_batch:
            batch, self._dead_batch = self._dead_batch, []
            self._listener.dead_lettered(batch)

    def forget_dead_letters(self) -> None:
        """The tick's transaction rolled back: those jobs are retried, not dead-lettered."""
        self._dead_batch.clear()

    # --- outcomes ------------------------------------------------------------------------------

    def _note_synced(self, job: Job, previous: Pushed | None, record: Pushed) -> None:
        """A line in "Recent activity": what this push changed in Plex."""
        old = previous.state if previous else None
        poster = record.poster_hash != (previous.poster_hash if previous else None)
        rating_key = record.state.get("rating_key")
        self._store.record_activity(
            ActivityKind.SYNCED,
            scene_id=job.scene_id,
            title=job.title,
            summary=changes_summary(old, record.state, poster=poster),
            rating_key=None if rating_key is None else str(rating_key),
            server_id=getattr(self._clients.plex(), "machine_identifier", None),
        )

    def _pushed(self, job: Job, result: PushResult) -> None:
        self._after_commit.append(
            lambda: self._checker.pushed(
                job.scene_id, result.record, wrote=result.wrote, finished=True
            )
        )
        self.counts.pushed(wrote=result.wrote)
        self._services.plex_wrote()
        self._progress.finished_one()
        message = "; ".join(result.notes) or None
        self._listener.job_finished(JobOutcome(job.scene_id, job.title, ok=True, message=message))

    def _handle_job_failure(self, job: Job, exc: SyncError, *, poster: bool = False) -> None:
        retry_after = getattr(exc, "retry_after", None)
        decision = self._retry.decide(exc.error_class, job.attempts, retry_after=retry_after)
        message = f"{exc.title}: {exc.message}" if exc.message else exc.title
        if poster:
            message = f"Poster pending ({message})"
        now = self._clock.now()
        if exc.error_class in STASH_OUTAGE and self._wake.settling:
            self._store.unclaim(job)  # the network is still coming back: not the job's fault
            return
        if exc.service == "stash" and exc.error_class in STASH_OUTAGE:
            # A Stash outage is like a Plex outage: it never uses the scene's attempts.
            decision = Decision(Action.RETRY, self._stash_wait(job, now), job.attempts)
        outcome = JobOutcome(job.scene_id, job.title, ok=False, error_class=exc.error_class.value)
        if decision.action in (Action.HOLD, Action.PAUSE):
            self._store.unclaim(job)  # an outage or a bad token is not the job's fault
            return
        if decision.action is Action.DROP:
            logger.info("Scene %s skipped: %s (skip_not_found is on)", job.scene_id, message)
            self._store.drop(job)
            self._store.record_outcome(failed=1)
            self._note_failed(job, f"Skipped: {exc.title}")
            self.counts.skipped += 1
        elif decision.action is Action.RETRY:
            retry_at = now + decision.delay
            self._store.release(
                job,
                not_before=retry_at,
                attempts=decision.attempts,
                error=message,
                error_class=exc.error_class.value,
            )
            logger.debug("Scene %s retry in %.1fs: %s", job.scene_id, decision.delay, message)
            outcome = JobOutcome(
                job.scene_id,
                job.title,
                ok=False,
                error_class=exc.error_class.value,
                message=message,
                retry_at=retry_at,
            )
        else:
            if isinstance(exc, PossibleMatchError):  # what `plexsync dlq confirm` may confirm
                self._store.possible_put(job.scene_id, exc.candidates)
            self._store.dead_letter(
                job, error_class=exc.error_class.value, message=message, attempts=decision.attempts
            )
            self._store.record_outcome(failed=1)
            self._note_failed(job, exc.title)  # the details (and the request) stay in the DLQ
            self.counts.failed += 1
            logger.warning("Scene %s dead-lettered: %s", job.scene_id, message)
            outcome = JobOutcome(
                job.scene_id,
                job.title,
                ok=False,
                error_class=exc.error_class.value,
                message=message,
                dead_lettered=True,
            )
            self._dead_batch.append(outcome)
            self._progress.finished_one()
        self._listener.job_finished(outcome)

    def _note_failed(self, job: Job, message: str) -> None:
        self._store.record_activity(
            ActivityKind.FAILED, scene_id=job.scene_id, title=job.title, summary=message
        )

    def _stash_wait(self, job: Job, now: float) -> float:
        """A poll interval, growing with the outage's length up to an hour."""
        elapsed = now - (job.first_failure_at or now)
        return min(max(float(self._config().poll_interval), elapsed), STASH_WAIT_MAX)
