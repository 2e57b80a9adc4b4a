"""Several Plex requests in flight against a slow Plex, with the guarantees of one at a time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from sync_helpers import (
    API_KEY,
    TOKEN,
    config_for,
    engine_for,
    expected_item,
    item_view,
    plex_item_for,
    settle,
    simulators,
)
from test_cli import SEED, plexsync, status, write_config

from engine.breaker import CircuitState
from engine.events import JobOutcome, NullListener, Progress
from engine.store.jobs import Job, JobStore
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.process import SimProcess
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

PUT = "PUT /library/sections/{id}/all"
LATENCY = 0.03  # seconds per Plex answer: worth overlapping


class LiveClock(FakeClock):
    """Fake wall time, but a monotonic clock that runs, so request latency can be measured;
    `advance` moves both."""

    def __init__(self) -> None:
        super().__init__()
        self._offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._offset += seconds


class Events(NullListener):
    """Every listener call with the thread it came on."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.finished: list[JobOutcome] = []

    def job_finished(self, outcome: JobOutcome) -> None:
        self.calls.append(("job_finished", threading.get_ident()))
        self.finished.append(outcome)

    def progress_changed(self, progress: Progress | None) -> None:
        self.calls.append(("progress_changed", threading.get_ident()))

    def breaker_changed(self, old: CircuitState, new: CircuitState) -> None:
        self.calls.append(("breaker_changed", threading.get_ident()))


def claims(store: JobStore) -> list[str]:
    """Records the scene ids the engine claims, in order."""
    claimed: list[str] = []
    dequeue = store.dequeue

    def recording(limit: int = 1) -> list[Job]:
        jobs = dequeue(limit)
        claimed.extend(job.scene_id for job in jobs)
        return jobs

    store.dequeue = recording  # type: ignore[method-assign]
    return claimed


@pytest.fixture
def slow_sims() -> Iterator[tuple[PlexSimulator, StashSimulator]]:
    with simulators(n=60) as (plex, stash):
        plex.latency = LATENCY
        yield plex, stash


def puts(plex: PlexSimulator) -> int:
    return int(plex.stats()["by_route"].get(PUT, 0))


def test_a_slow_plex_gets_several_requests_and_one_ordered_event_stream(
    tmp_path: Path, slow_sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = slow_sims
    events, clock = Events(), LiveClock()
    config = config_for(plex, stash, sync_poster=False)
    with engine_for(tmp_path, config, clock, listener=events) as (engine, store):
        claimed = claims(store)
        settle(engine, clock)
        assert store.counts().pending == 0 and store.dlq_count() == 0
    assert plex.stats()["connections"] >= 3  # workers with their own sessions were used
    # Listener calls only on the engine's thread, and jobs finished in the order claimed.
    assert {thread for _name, thread in events.calls} == {threading.get_ident()}
    assert [outcome.scene_id for outcome in events.finished] == claimed
    synced = [k for k in range(1, 61) if (stash.scene(k) or {}).get("files")]
    assert puts(plex) == len(synced)  # one write per scene: no job ran twice
    for k in synced:
        scene = stash.scene(k) or {}
        item = plex_item_for(plex, scene)
        assert item is not None and item_view(item) == expected_item(scene)


def test_an_opening_breaker_stops_new_requests_and_counts_each_answer_once(
    tmp_path: Path, slow_sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = slow_sims
    clock = LiveClock()
    config = config_for(plex, stash, sync_poster=False, recovery_timeout=600)
    with engine_for(tmp_path, config, clock) as (engine, store):
        settle(engine, clock)  # the first sync: the limit has grown
        stash.churn(40)
        clock.advance(6)  # the next poll is due
        plex.reset_stats()
        plex.add_fault(match=r"^PUT /library", status=503)  # Plex falls over
        for _ in range(20):
            engine.tick(budget=5.0)
            if engine.breaker.state is CircuitState.OPEN:
                break
        assert engine.breaker.state is CircuitState.OPEN
        failed = puts(plex)
        # Requests already in flight when it opened were answered; none was sent after.
        assert config.failure_threshold <= failed < config.failure_threshold + 4
        jobs = store.list_jobs(limit=1000)
        assert sum(job.attempts for job in jobs) == failed  # each answer counted once
        assert store.dlq_count() == 0 and len(jobs) >= 35  # nothing lost
        for _ in range(10):
            clock.advance(30)
            engine.tick(budget=5.0)
        assert puts(plex) == failed  # open: nothing sent until the recovery timeout


def test_retry_after_holds_every_new_request_until_it_passes(
    tmp_path: Path, slow_sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = slow_sims
    clock = LiveClock()
    config = config_for(plex, stash, sync_poster=False)
    with engine_for(tmp_path, config, clock) as (engine, store):
        settle(engine, clock)
        stash.churn(30)
        clock.advance(6)  # the next poll is due
        plex.reset_stats()
        plex.add_fault(match=r"^PUT /library", status=429, count=1, retry_after=120)
        start = clock.now()
        engine.tick(budget=5.0)
        sent = puts(plex)
        # The 429, what was in flight beside it, and what was started while the jobs older
        # than it were settled (the engine waits on the oldest answer only): on a loaded
        # machine the 429 can wait unread that long, so at most the limit twice, less one.
        assert sent <= 2 * config.max_in_flight - 1
        limited = [job for job in store.list_jobs(limit=1000) if job.attempts == 1]
        assert len(limited) == 1 and limited[0].not_before == pytest.approx(start + 120, abs=2)
        for _ in range(5):
            clock.advance(20)
            engine.tick(budget=5.0)  # polls go on; Plex waits
        assert puts(plex) == sent  # 100 s later: still nothing new
        clock.advance(21)
        settle(engine, clock)
        assert store.counts().pending == 0 and store.dlq_count() == 0


def test_concurrent_syncs_leave_no_thread_or_descriptor_behind(
    tmp_path: Path, slow_sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = slow_sims
    config = config_for(plex, stash, sync_poster=True)
    counts = []
    for _ in range(3):
        stash.churn(20, cover=True)
        clock = LiveClock()
        with engine_for(tmp_path, config, clock) as (engine, store):
            settle(engine, clock)
            assert store.counts().pending == 0
        counts.append(_settled_counts())
    assert not [t for t in threading.enumerate() if t.name.startswith("plexsync-plex")]
    assert plex.stats()["connections"] >= 3
    assert counts[1] == counts[0] and counts[2] == counts[0]


def _open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def _settled_counts(within: float = 5.0) -> tuple[int, int]:
    """(threads, open fds) of this process once they stop changing: the simulators' handler
    threads end a moment after our sockets close (longer on a loaded machine), so each run is
    measured settled, the first one included."""
    last, steady, deadline = (-1, -1), 0, time.monotonic() + within
    while time.monotonic() < deadline:
        now = (threading.active_count(), _open_fds())
        steady = steady + 1 if now == last else 0
        if steady >= 3:
            break
        last = now
        time.sleep(0.1)
    return last


def test_kill_9_during_a_concurrent_sync_loses_nothing(tmp_path: Path) -> None:
    n = 800
    latency = ("--latency-ms", "20")
    plex = SimProcess("plex", "--token", TOKEN, "--movies", str(n), "--seed", str(SEED), *latency)
    stash = SimProcess("stash", "--api-key", API_KEY, "--scenes", str(n), "--seed", str(SEED))
    with plex, stash:
        write_config(tmp_path, plex, stash, sync_poster=False)
        runner = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "--config-dir", str(tmp_path), "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            stats: dict[str, Any] = {}
            while time.monotonic() < deadline:
                stats = plex.control("GET", "stats")
                if stats["by_method"].get("PUT", 0) >= 150:
                    break
                time.sleep(0.02)
            os.kill(runner.pid, signal.SIGKILL)
            runner.wait(10)
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.wait()
        assert stats["by_method"].get("PUT", 0) >= 150 and stats["connections"] >= 3
        mid = status(tmp_path)
        assert mid["queue"]["pending"] + mid["queue"]["in_progress"] > 0  # it died mid-sync
        result = plexsync(tmp_path, "run", "--once", timeout=300)
        assert result.returncode == 0, result.stderr
        expected = StashSimulator(api_key=API_KEY, scenes=n, seed=SEED)
        items = {item["files"][0]: item for item in plex.control("GET", "items")}
        synced = 0
        for k in range(1, n + 1):
            scene = expected.scene(k) or {}
            if not scene.get("files"):
                continue
            item = items[scene["files"][0].replace("/data", "/media", 1)]
            assert item["title"] == scene["title"]
            assert item["genres"] == list(scene["tags"])  # complete lists: nothing twice
            assert item["actors"] == list(scene["performers"])
            synced += 1
        assert synced > n * 0.9
        assert status(tmp_path)["dlq"]["count"] == 0


@pytest.mark.parametrize("slow", [True, False], ids=["in flight together", "one at a time"])
def test_two_scenes_on_one_plex_item_keep_what_the_first_wrote(
    tmp_path: Path, slow_sims: tuple[PlexSimulator, StashSimulator], slow: bool
) -> None:
    plex, stash = slow_sims
    plex.latency = LATENCY if slow else 0.0
    clock = LiveClock()
    config = config_for(plex, stash, sync_poster=False)
    with engine_for(tmp_path, config, clock) as (engine, store):
        settle(engine, clock)
        first, second = (stash.scene(k) or {} for k in (11, 12))
        assert first["files"] and second["files"]
        # Both scenes now point at the first one's file: one Plex item, two jobs side by side.
        stash.update_scene(11, tags=[*first["tags"], "Alpha"])
        stash.update_scene(12, files=first["files"], tags=[*second["tags"], "Beta"])
        clock.advance(6)
        settle(engine, clock)
        assert store.counts().pending == 0
        dead = store.dlq_list()
        assert [entry.scene_id for entry in dead] == ["12"]  # two scenes on one file: said so
    item = plex_item_for(plex, stash.scene(11) or {})
    assert item is not None and "Alpha" in item["genres"] and "Beta" not in item["genres"]
