"""The loops that host the engine: `plexsync run --once` and `SyncEngine.run`: they wait, and a
stop request wakes them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fakes import FakePlex, FakeStash
from fake_clock import FakeClock

from engine.cli.run import _run_once
from engine.config.file import PlexSyncConfig
from engine.errors import UnreachableError
from engine.store.jobs import JobStore
from engine.sync.engine import SyncEngine

MAX_TICKS = 200


@pytest.fixture
def engine(tmp_path: Path, fake_clock: FakeClock) -> Iterator[SyncEngine]:
    plex = FakePlex([f"/media/{n}.mp4" for n in (1, 2)])
    plex.fail_with = UnreachableError("Plex is unreachable", "ConnectionError")
    stash = FakeStash()
    for n in (1, 2):
        stash.put(n)
    store = JobStore(tmp_path / "db.sqlite3", clock=fake_clock)
    config = PlexSyncConfig(
        plex_url="http://plex:32400",
        plex_token="token",
        poll_interval=10,
        failure_threshold=3,
        path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],
        sync_poster=False,
    )
    built = SyncEngine(
        config=config,
        store=store,
        plex_factory=lambda c: plex,
        stash_factory=lambda c: stash,
        clock=fake_clock,
        idle_probes=False,
    )
    yield built
    built.close()
    store.close()


def count_ticks(engine: SyncEngine) -> list[float]:
    """Record each tick's delay; a loop that never waits fails instead of spinning forever."""
    delays: list[float] = []
    tick = engine.tick

    def counted(budget: float = 0.5) -> float:
        if len(delays) >= MAX_TICKS:
            raise AssertionError("the loop ticks without waiting")
        delays.append(tick(budget))
        return delays[-1]

    engine.tick = counted  # type: ignore[method-assign]
    return delays


def test_run_once_waits_the_delay_while_plex_is_down(
    engine: SyncEngine, fake_clock: FakeClock
) -> None:
    delays = count_ticks(engine)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        fake_clock.advance(seconds)

    assert _run_once(engine, sleep=sleep) == 1
    assert engine.breaker.state.value == "open"
    assert waits and all(w > 0 for w in waits)
    assert waits == [d for d in delays if d > 0][: len(waits)]
    assert len(delays) < 20


def test_a_stop_request_wakes_run_once_from_its_wait(engine: SyncEngine) -> None:
    result: list[int] = []
    waiting = threading.Event()
    tick = engine.tick

    def tick_then_flag(budget: float = 0.5) -> float:
        delay = tick(budget)
        if delay > 0:
            waiting.set()
        return delay

    engine.tick = tick_then_flag  # type: ignore[method-assign]
    worker = threading.Thread(target=lambda: result.append(_run_once(engine)))
    worker.start()
    assert waiting.wait(5)
    engine.request_stop()
    worker.join(5)  # the wait asked for is 10 s (a poll interval): the stop cut it short
    assert not worker.is_alive() and result == [1]


def test_a_stop_request_wakes_the_engine_from_an_idle_wait(engine: SyncEngine) -> None:
    idle = threading.Event()
    tick = engine.tick

    def tick_then_flag(budget: float = 0.5) -> float:
        delay = tick(budget)
        if delay >= 1:
            idle.set()
        return delay

    engine.tick = tick_then_flag  # type: ignore[method-assign]
    worker = threading.Thread(target=engine.run)
    worker.start()
    assert idle.wait(5)
    engine.request_stop()
    worker.join(5)  # far less than the 10 s wait it was in
    assert not worker.is_alive()
