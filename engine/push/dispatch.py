"""Queued jobs to Plex with a small, adaptive number of requests in flight.

The engine thread claims jobs, matches and plans them (`ScenePusher.prepare`) and hands only
their HTTP calls (`execute`) to worker threads, each with its own Plex and Stash clients
(plexapi objects and requests sessions are not thread-safe). Results come back to the engine
thread in the order the jobs were claimed, where everything else happens: store writes, breaker
and retry accounting, listener events. So the host sees one ordered stream, as from one thread.

How many requests may be in flight is decided by `Aimd`: it starts at one (the engine thread does
the calls itself, no worker at all), adds one per round of answers while their latency holds and
is worth overlapping, halves on a 5xx or 429, and drops to one when Plex is unreachable.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import ErrorClass, PermanentError, SyncError
from engine.live.processing import NewItemWatch
from engine.plex.target import PlexTarget
from engine.push.pusher import Executed, Prepared, PushResult, ScenePusher, execute
from engine.stash.scene import ScenePage, Screenshot
from engine.stash.source import StashSource
from engine.store.jobs import Job, JobStore

logger = logging.getLogger(__name__)

BATCH = 50  # jobs claimed per dequeue
GROUP = 10  # finished jobs settled in one transaction, at most
WORTH_IT = 0.008  # seconds per request below which overlapping them saves less than it costs
TOLERANCE = 1.5  # latency "holds" while its average stays under this times the lowest seen
SMOOTHING = 0.2  # weight of a new latency sample in the running average
DRIFT = 0.01  # how fast the lowest latency seen follows the average up (a changed network)

Commit = Callable[[], PushResult]


class Aimd:
    """The in-flight limit: additive increase while latency holds, multiplicative decrease."""

    def __init__(self, ceiling: int, *, worth_it: float = WORTH_IT) -> None:
        self.limit = 1
        self._ceiling = max(1, ceiling)
        self._worth_it = worth_it
        self._average: float | None = None
        self._lowest: float | None = None
        self._credit = 0

    def configure(self, ceiling: int) -> None:
        self._ceiling = max(1, ceiling)
        self.limit = min(self.limit, self._ceiling)

    def on_success(self, latency: float) -> None:
        """One answer in `latency` seconds per request; a whole round of them adds one."""
        average = latency if self._average is None else self._average
        average += SMOOTHING * (latency - average)
        lowest = latency if self._lowest is None else self._lowest
        lowest = min(latency, lowest + DRIFT * (average - lowest))
        self._average, self._lowest = average, lowest
        if average > lowest * TOLERANCE:
            self._credit = 0  # Plex answers slower as we send more: hold where we are
            return
        if average < self._worth_it:
            return  # answers come fast: the engine's own work is the limit, not the wait
        self._credit += 1
        if self._credit >= self.limit:
            self._credit = 0
            self.limit = min(self._ceiling, self.limit + 1)

    def on_overload(self) -> None:
        """A 5xx or 429: half as many in flight."""
        self.limit = max(1, self.limit // 2)
        self._credit = 0

    def on_outage(self) -> None:
        """Plex unreachable: one at a time again."""
        self.limit = 1
        self._credit = 0


class Lanes:
    """Worker threads, each with its own Plex and Stash clients, made when first needed."""

    def __init__(
        self,
        config: PlexSyncConfig,
        plex_factory: Callable[[PlexSyncConfig], PlexTarget],
        stash_factory: Callable[[PlexSyncConfig], StashSource],
    ) -> None:
        self._config = config
        self._plex_factory = plex_factory
        self._stash_factory = stash_factory
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._clients: list[PlexTarget | StashSource] = []
        self._lock = threading.Lock()

    def submit(
        self, work: Callable[[PlexTarget, Callable[[str], Screenshot]], Executed]
    ) -> Future[Executed]:
        if self._pool is None:
            size = self._config.max_in_flight
            self._pool = ThreadPoolExecutor(size, thread_name_prefix="plexsync-plex")
        return self._pool.submit(lambda: work(self._plex(), self._fetch_image))

    def _plex(self) -> PlexTarget:
        client: PlexTarget | None = getattr(self._local, "plex", None)
        if client is None:
            client = self._local.plex = self._plex_factory(self._config)
            self._keep(client)
        return client

    def _fetch_image(self, url: str) -> Screenshot:
        client: StashSource | None = getattr(self._local, "stash", None)
        if client is None:
            client = self._local.stash = self._stash_factory(self._config)
            self._keep(client)
        return client.fetch_image(url)

    def _keep(self, client: PlexTarget | StashSource) -> None:
        with self._lock:
            self._clients.append(client)

    def close(self) -> None:
        """Wait for the calls in hand, end the threads, close every client they made."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            try:
                client.close()
            except Exception:
                logger.debug("Closing a worker's client failed", exc_info=True)


class RunnerHost(Protocol):
    """What the runner needs of the engine (all called on the engine thread)."""

    @property
    def config(self) -> PlexSyncConfig: ...
    def plex(self) -> PlexTarget: ...
    def fetch_image(self, url: str) -> Screenshot: ...
    def may_send(self) -> int:
        """How many requests may be in flight now: 0 (blocked), 1 (a trial), or any."""
        ...

    def settle(self, job: Job, commit: Commit) -> None: ...
    def committed(self, *, kept: bool) -> None: ...
    def job_config(self, job: Job) -> tuple[PlexSyncConfig, bool]: ...
    def scenes_by_id(self, ids: list[str]) -> ScenePage: ...
    def prefetch_failed(self, exc: SyncError) -> None: ...


class _NotStarted(Enum):
    BUSY = "its Plex item is in flight for another job"
    HELD = "its Plex item is new and Plex is still processing it"


@dataclass
class _InFlight:
    job: Job
    prepared: Prepared | None
    result: Future[Executed]
    failure: Exception | None = None  # matching or planning failed: nothing was sent


class JobRunner:
    """Claims ready jobs and keeps up to `Aimd.limit` of them in flight (see module doc)."""

    def __init__(
        self,
        *,
        host: RunnerHost,
        store: JobStore,
        pusher: ScenePusher,
        clock: Clock,
        lanes: Callable[[], Lanes],
        new_items: NewItemWatch | None = None,
    ) -> None:
        self._host = host
        self._new_items = NewItemWatch(clock) if new_items is None else new_items
        self._store = store
        self._pusher = pusher
        self._clock = clock
        self._make_lanes = lanes
        self._lanes: Lanes | None = None
        self.aimd = Aimd(host.config.max_in_flight)

    def close(self) -> None:
        if self._lanes is not None:
            self._lanes.close()
            self._lanes = None

    def run(self, deadline: float) -> tuple[int, bool]:
        """Jobs until none is ready, sending is blocked or `deadline` (monotonic) passes.

        Returns how many finished and whether ready work is left. Nothing stays in flight
        after it returns; claimed jobs not started are given back, first in line.
        """
        claimed: deque[Job] = deque()
        flight: deque[_InFlight] = deque()
        finished, exhausted = 0, False
        try:
            while True:
                allowed, inline = self._room(flight, deadline)
                if len(flight) < allowed:
                    if not claimed and not exhausted:
                        claimed.extend(self._claim())
                        exhausted = not claimed
                        continue  # reading ahead may have paused us (a rejected token)
                    if claimed:
                        entry = self._start(claimed[0], flight, inline=inline)
                        if entry is _NotStarted.BUSY:
                            finished += self._settle(flight, everything=True)
                            continue
                        claimed.popleft()
                        if isinstance(entry, _InFlight):
                            flight.append(entry)
                        continue
                if not flight:
                    return finished, not exhausted or bool(claimed)
                finished += self._settle(flight)
        finally:
            for job in claimed:
                self._store.unclaim(job)

    def _room(self, flight: deque[_InFlight], deadline: float) -> tuple[int, bool]:
        """How many jobs may be in flight now, and whether the next runs on this thread."""
        if self._clock.monotonic() >= deadline or _pushed_back(flight):
            return 0, False
        allowed = min(self._host.may_send(), self.aimd.limit)
        if allowed == 1 and all(entry.result.done() for entry in flight):
            # One request at a time, sent from this thread: a few finished jobs are settled
            # together, in one transaction, before the next batch of requests.
            return GROUP, True
        return allowed, False

    def _claim(self) -> list[Job]:
        jobs = self._store.dequeue(BATCH)
        if jobs:
            try:
                self._pusher.prefetch(jobs, config=self._host.config, plex=self._host.plex())
            except SyncError as exc:
                self._host.prefetch_failed(exc)
        return jobs

    def _start(
        self, job: Job, flight: deque[_InFlight], *, inline: bool
    ) -> _InFlight | _NotStarted:
        """The job prepared and sent; BUSY when its Plex item is in flight for another job
        (two scenes on one item: the second is planned after the first is settled); HELD
        (and given back to wait) when Plex is still processing its new item."""
        config, forced = self._host.job_config(job)
        try:
            prepared = self._prepare(job, config, forced=forced)
        except Exception as exc:  # settled in turn, so events keep the claimed order
            return _InFlight(job, None, Future(), failure=exc)
        busy = {entry.prepared.item.rating_key for entry in flight if entry.prepared}
        if prepared.item.rating_key in busy:
            return _NotStarted.BUSY
        wait = self._new_items.hold(prepared.item.rating_key, job.scene_id)
        if wait is not None:
            self._store.hold(job, not_before=self._clock.now() + wait)
            return _NotStarted.HELD

        def work(plex: PlexTarget, fetch_image: Callable[[str], Screenshot]) -> Executed:
            return execute(
                prepared,
                config=config,
                plex=plex,
                fetch_image=fetch_image,
                monotonic=self._clock.monotonic,
            )

        if inline:
            done: Future[Executed] = Future()
            done.set_result(work(self._host.plex(), self._host.fetch_image))
            return _InFlight(job, prepared, done)
        return _InFlight(job, prepared, self._lanes_now().submit(work))

    def _prepare(self, job: Job, config: PlexSyncConfig, *, forced: bool) -> Prepared:
        if "malformed" in job.payload:  # a malformed scene sent back from the DLQ: never a write
            raise _malformed(job)
        return self._pusher.prepare(
            job,
            config=config,
            plex=self._host.plex(),
            force=forced,
            claims=self._store,
            lookup=self._host.scenes_by_id,
        )

    def _lanes_now(self) -> Lanes:
        if self._lanes is None:
            self._lanes = self._make_lanes()
        return self._lanes

    def _settle(self, flight: deque[_InFlight], *, everything: bool = False) -> int:
        """Settle the oldest job (waiting for its answer) and the finished ones behind it, up
        to GROUP (or every job in flight), in one transaction; returns how many."""
        group = [flight.popleft()]
        while flight and (everything or (len(group) < GROUP and flight[0].result.done())):
            group.append(flight.popleft())
        try:
            with self._store.batch():
                for entry in group:
                    self._finish(entry)
        except BaseException:
            self._host.committed(kept=False)
            raise
        self._host.committed(kept=True)
        return len(group)

    def _finish(self, flight: _InFlight) -> None:
        """One job's answer (waiting for it if needed), settled on this thread."""
        prepared, failure = flight.prepared, flight.failure
        if prepared is None or failure is not None:
            self._host.settle(flight.job, _raising(failure or RuntimeError("not prepared")))
            return
        done = flight.result.result()
        self._adapt(done)
        self._host.settle(flight.job, lambda: self._pusher.commit(prepared, done))

    def _adapt(self, done: Executed) -> None:
        pushback = _pushback(done)
        if pushback is ErrorClass.UNREACHABLE:
            self.aimd.on_outage()
        elif pushback is ErrorClass.TRANSIENT:
            self.aimd.on_overload()
        elif done.error is None and done.poster_error is None and done.latency is not None:
            self.aimd.on_success(done.latency)


def _pushed_back(flight: deque[_InFlight]) -> bool:
    """Whether an answer already in says Plex is overloaded or away: send nothing new until it
    is settled in turn (then the breaker, Retry-After and the limit have their say)."""
    return any(
        entry.result.done() and _pushback(entry.result.result()) is not None for entry in flight
    )


def _pushback(done: Executed) -> ErrorClass | None:
    """TRANSIENT (a 5xx or 429) or UNREACHABLE when Plex refused the job's requests so."""
    error = done.error or done.poster_error
    pushback = (ErrorClass.TRANSIENT, ErrorClass.UNREACHABLE)
    if isinstance(error, SyncError) and error.service == "plex" and error.error_class in pushback:
        return error.error_class
    return None


def _raising(exc: Exception) -> Commit:
    def commit() -> PushResult:
        raise exc

    return commit


def _malformed(job: Job) -> SyncError:
    return PermanentError("Stash sent a malformed scene", str(job.payload["malformed"]))
