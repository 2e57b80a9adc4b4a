"""Faults from the simulators: bursts, rate limits, bad tokens, outages, permanent errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_helpers import config_for, drive, engine_for, settle, simulators

from engine.breaker import CircuitState
from engine.events import NullListener

pytestmark = pytest.mark.integration

PUT = r"^PUT /library/sections/"


class Transitions(NullListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def breaker_changed(self, old: CircuitState, new: CircuitState) -> None:
        self.seen.append((old.value, new.value))


def test_503_burst_is_retried_and_everything_syncs(tmp_path: Path, fake_clock: FakeClock) -> None:
    with (
        simulators(n=10) as (plex, stash),
        engine_for(
            tmp_path, config_for(plex, stash, sync_poster=False, failure_threshold=10), fake_clock
        ) as (engine, store),
    ):
        plex.add_fault(match=PUT, status=503, count=4)
        settle(engine, fake_clock)
        assert store.dlq_count() == 0 and store.counts().pending == 0
        stats = plex.stats()["by_route"]["PUT /library/sections/{id}/all"]
        synced = sum(1 for k in range(1, 11) if (stash.scene(k) or {}).get("files"))
        assert stats == synced + 4  # each failed PUT retried once it was due


def test_429_retry_after_is_honoured(tmp_path: Path, fake_clock: FakeClock) -> None:
    with (
        simulators(n=3) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ),
    ):
        plex.add_fault(match=PUT, status=429, count=1, retry_after=120)
        start = fake_clock.now()
        engine.tick()
        waiting = [j for j in store.list_jobs() if j.attempts == 1]
        assert len(waiting) == 1
        assert waiting[0].not_before == pytest.approx(start + 120, abs=1)
        settle(engine, fake_clock)
        assert store.counts().pending == 0 and store.dlq_count() == 0


def test_401_pauses_with_nothing_dead_lettered(tmp_path: Path, fake_clock: FakeClock) -> None:
    with simulators(n=5) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False).with_changes(plex_token="wrong-token")
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            drive(engine, fake_clock, 120)
            status = engine.status()
            assert status.auth_error == "Plex rejected the token"
            assert store.dlq_count() == 0 and status.pending >= 4
            assert engine.breaker.state is CircuitState.CLOSED
            # No hammering with a bad token: one cheap check per poll interval (5 s).
            assert plex.stats()["requests"] <= 120 / 5 + 2
            engine.apply_config(config_for(plex, stash, sync_poster=False))
            settle(engine, fake_clock)
            assert engine.status().auth_error is None and store.counts().pending == 0


def test_outage_mid_run_then_recovery_drains_by_itself(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    listener = Transitions()
    with simulators(n=30) as (plex, stash):
        config = config_for(
            plex, stash, sync_poster=False, failure_threshold=2, recovery_timeout=20, max_retries=0
        )
        with engine_for(tmp_path, config, fake_clock, listener=listener) as (engine, store):
            settle(engine, fake_clock)
            for k in range(1, 31):
                stash.update_scene(k, title=f"Changed {k}")
            plex.stop()  # the port is closed: a real outage
            drive(engine, fake_clock, 30)
            assert engine.breaker.state in (CircuitState.OPEN, CircuitState.HALF_OPEN)
            assert store.dlq_count() == 0  # an outage never dead-letters
            assert all(j.attempts == 0 for j in store.list_jobs())
            assert store.counts().pending > 20
            plex.start()  # same port, same state
            drive(engine, fake_clock, 30)  # no user action: the probe closes it, the queue drains
            assert engine.breaker.state is CircuitState.CLOSED
            assert store.counts().pending == 0 and store.dlq_count() == 0
            assert ("open", "half_open") in listener.seen
            assert listener.seen[-1] == ("half_open", "closed")
            outages = store.outages(0)
            assert len(outages) == 1 and outages[0].ended_at is not None
            titles = {item["title"] for item in plex.items()}
            assert {f"Changed {k}" for k in range(1, 31)} & titles


def test_failed_half_open_probe_reopens_while_still_down(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    listener = Transitions()
    with simulators(n=3) as (plex, stash):
        config = config_for(plex, stash, failure_threshold=1, recovery_timeout=10)
        with engine_for(tmp_path, config, fake_clock, listener=listener) as (engine, _store):
            plex.stop()
            drive(engine, fake_clock, 25)
            assert listener.seen[:3] == [
                ("closed", "open"),
                ("open", "half_open"),
                ("half_open", "open"),
            ]


def test_dlq_retry_after_a_permanent_fault_is_fixed(tmp_path: Path, fake_clock: FakeClock) -> None:
    with (
        simulators(n=4) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ),
    ):
        plex.add_fault(match=PUT, status=400)
        settle(engine, fake_clock)
        dead = store.dlq_count()
        assert dead >= 3 and store.counts().pending == 0
        assert engine.breaker.state is CircuitState.CLOSED  # 4xx never trips the breaker
        plex.clear_faults()
        engine.dlq_retry(None)
        settle(engine, fake_clock)
        assert store.dlq_count() == 0 and store.counts().pending == 0
        assert plex.stats()["by_method"]["PUT"] >= 2 * dead


def test_timeout_counts_as_unreachable(tmp_path: Path, fake_clock: FakeClock) -> None:
    with (
        simulators(n=2) as (plex, stash),
        engine_for(
            tmp_path,
            config_for(plex, stash, plex_read_timeout=1, failure_threshold=1, sync_poster=False),
            fake_clock,
        ) as (engine, store),
    ):
        plex.add_fault(match=r"^GET /$", status=None, delay=1.5)
        engine.tick()
        assert engine.breaker.state is CircuitState.OPEN
        assert store.dlq_count() == 0


def test_stash_error_is_reported_and_the_next_poll_recovers(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        simulators(n=3) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ),
    ):
        stash.add_fault(match=r"POST /graphql", status=502, count=1)
        engine.tick()
        assert (engine.status().last_error or "").startswith("Stash")
        drive(engine, fake_clock, 12)
        settle(engine, fake_clock)
        assert store.counts().pending == 0 and engine.status().last_error is None
        assert plex.stats()["by_method"]["PUT"] >= 2
