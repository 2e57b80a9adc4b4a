"""Calm after sleep: a resume or a network change opens a settle window in which failures do
not count; then the engine checks at once, and timers due during the sleep run once."""

from __future__ import annotations

from pathlib import Path

from fake_clock import FakeClock
from test_sync_engine import make_engine, run_ticks

from engine.breaker import CircuitState
from engine.errors import TransientError, UnreachableError
from engine.wakeup import RESUME_JUMP, SETTLE_SECONDS, WakeReason, WakeWatch


def test_a_suspend_is_a_resume_and_opens_the_settle_window(fake_clock: FakeClock) -> None:
    watch = WakeWatch(fake_clock)
    fake_clock.advance(600)  # awake: both clocks move together
    assert watch.check() is None and not watch.settling
    fake_clock.suspend(RESUME_JUMP - 1)  # an NTP step, not a sleep
    assert watch.check() is None
    fake_clock.suspend(3600)
    assert watch.check() is WakeReason.RESUME
    assert watch.settling
    fake_clock.advance(SETTLE_SECONDS - 0.1)
    assert watch.settling and watch.check() is None
    fake_clock.advance(0.1)
    assert not watch.settling


def test_a_backwards_wall_clock_step_is_not_a_resume(fake_clock: FakeClock) -> None:
    watch = WakeWatch(fake_clock)
    fake_clock.suspend(-3600)
    assert watch.check() is None


def test_a_network_change_settles_from_the_next_check(fake_clock: FakeClock) -> None:
    watch = WakeWatch(fake_clock)
    watch.network_changed()
    assert not watch.settling
    assert watch.check() is WakeReason.NETWORK and watch.settling
    assert watch.check() is None


def test_failures_after_a_resume_neither_open_the_breaker_nor_use_attempts(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, stash, store, rec = make_engine(tmp_path, fake_clock, failure_threshold=2)
    run_ticks(engine, fake_clock, 5)
    assert store.counts().pending == 0
    stash.put(1, title="Edited while the lid was shut")
    fake_clock.suspend(8 * 3600)
    plex.fail_with = TransientError("Plex answered 503", "Wi-Fi still joining")
    run_ticks(engine, fake_clock, SETTLE_SECONDS - 1)
    assert rec.transitions == []  # never red
    assert engine.breaker.state is CircuitState.CLOSED
    job = store.get_job("1")
    assert job is not None and job.attempts == 0
    assert engine.status().last_error is None
    plex.fail_with = None
    calls = len(plex.calls)
    run_ticks(engine, fake_clock, 1.5)  # the settle window ends: straight back to work
    assert len(plex.calls) > calls
    assert store.get_job("1") is None
    assert rec.outcomes[-1].ok and rec.outcomes[-1].scene_id == "1"


def test_after_the_settle_window_failures_count_again(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, _stash, _store, rec = make_engine(tmp_path, fake_clock, failure_threshold=2)
    run_ticks(engine, fake_clock, 5)
    fake_clock.suspend(3600)
    plex.fail_with = UnreachableError("Plex is unreachable", "refused")
    run_ticks(engine, fake_clock, SETTLE_SECONDS + 60)
    assert ("closed", "open") in rec.transitions  # really down: the breaker still opens


def test_a_resume_checks_stash_and_plex_at_once(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, stash, _store, _rec = make_engine(tmp_path, fake_clock, poll_interval=300)
    run_ticks(engine, fake_clock, 5)
    assert engine.tick() > 200  # idle: the next poll is minutes away
    stash.put(2, title="Changed during the night")
    fake_clock.suspend(8 * 3600)  # the monotonic clock did not move: the poll is not yet due
    calls = len(plex.calls)
    engine.tick()
    assert len(plex.calls) > calls
    assert ("1001", "Changed during the night") in [
        (k, p.get("title.value")) for k, p in plex.edits
    ]


def test_timers_due_during_sleep_run_once(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, _plex, stash, store, _rec = make_engine(tmp_path, fake_clock, poll_interval=10)
    run_ticks(engine, fake_clock, 5)
    purges: list[object] = []
    real_purge = store.dlq_purge
    requests_before = len(stash.requests)
    store.dlq_purge = lambda days: (purges.append(days), real_purge(days))[1]  # type: ignore[method-assign]
    fake_clock.advance(3 * 86400)  # a sleep where the monotonic clock kept counting (Windows)
    engine.tick()
    engine.tick()
    assert len(stash.requests) - requests_before == 1  # one poll, not 25,920 missed ones
    assert len(purges) == 1  # not three missed daily purges
    delay = engine.tick()
    assert 0 < delay <= 10


def test_a_network_change_from_the_tray_calms_stash_and_plex_failures(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, stash, _store, rec = make_engine(tmp_path, fake_clock, failure_threshold=1)
    run_ticks(engine, fake_clock, 5)
    engine.network_changed()  # what the tray sends when Qt reports a network change
    stash.fail_with = UnreachableError("Stash is unreachable", "no route")
    plex.fail_with = UnreachableError("Plex is unreachable", "no route")
    run_ticks(engine, fake_clock, SETTLE_SECONDS - 1)
    assert rec.transitions == [] and engine.status().last_error is None
