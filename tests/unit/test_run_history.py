"""The history records when the engine ran, Stash's outages, and when it last checked."""

from __future__ import annotations

from pathlib import Path

from fake_clock import FakeClock
from test_engine_health import stash_down
from test_sync_engine import make_engine, run_ticks


def test_runs_cover_only_the_time_the_engine_ran(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, _plex, _stash, store, _ = make_engine(tmp_path, fake_clock)
    started = fake_clock.now()
    run_ticks(engine, fake_clock, 300)
    engine.close()
    stopped = fake_clock.now()
    fake_clock.advance(3600)  # the app is not running for an hour
    (run,) = store.runs(0)
    assert run.started_at == started
    assert run.last_seen_at == stopped


def test_heartbeats_extend_the_run_while_it_lasts(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, _plex, _stash, store, _ = make_engine(tmp_path, fake_clock)
    run_ticks(engine, fake_clock, 200)  # no close(): a crash keeps the last heartbeat
    (run,) = store.runs(0)
    assert fake_clock.now() - run.last_seen_at <= 61
    assert run.last_seen_at - run.started_at >= 120


def test_a_restart_starts_a_new_run(tmp_path: Path, fake_clock: FakeClock) -> None:
    first, *_ = make_engine(tmp_path, fake_clock)
    run_ticks(first, fake_clock, 30)
    first.close()
    fake_clock.advance(600)
    second, _plex, _stash, store, _ = make_engine(tmp_path, fake_clock)
    run_ticks(second, fake_clock, 30)
    runs = store.runs(0)
    assert len(runs) == 2
    assert runs[1].started_at - runs[0].last_seen_at >= 600


def test_stash_outages_are_recorded_apart_from_plex(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, _plex, stash, store, _ = make_engine(tmp_path, fake_clock)
    engine.tick()
    stash.fail_with = stash_down()
    run_ticks(engine, fake_clock, 15)
    (ongoing,) = store.outages(0, "stash")
    assert ongoing.ended_at is None
    assert store.outages(0) == []  # Plex was fine all along
    stash.fail_with = None
    run_ticks(engine, fake_clock, 15)
    (ended,) = store.outages(0, "stash")
    assert ended.ended_at is not None and ended.ended_at > ended.started_at


def test_last_checked_moves_on_while_nothing_syncs(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, *_ = make_engine(tmp_path, fake_clock, scenes=0)
    assert engine.status().last_checked_at is None
    run_ticks(engine, fake_clock, 5)
    first = engine.status().last_checked_at
    assert first is not None
    run_ticks(engine, fake_clock, 30)
    later = engine.status().last_checked_at
    assert later is not None and later > first
    assert engine.status().last_sync_at is None  # idle: nothing synced, yet it was checked
