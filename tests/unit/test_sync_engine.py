"""The engine's decisions with a fake clock and in-memory Plex/Stash: no sockets, no sleeps."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from engine_fakes import FakePlex, FakeStash
from fake_clock import FakeClock

from engine.breaker import CircuitState
from engine.config.file import PlexSyncConfig
from engine.errors import AuthError, PermanentError, TransientError, UnreachableError
from engine.events import JobOutcome, NullListener
from engine.store.jobs import JobStore
from engine.sync.engine import SyncEngine


class Recorder(NullListener):
    def __init__(self) -> None:
        self.transitions: list[tuple[str, str]] = []
        self.outcomes: list[JobOutcome] = []
        self.dead: list[list[JobOutcome]] = []
        self.auth: list[str] = []

    def breaker_changed(self, old: CircuitState, new: CircuitState) -> None:
        self.transitions.append((old.value, new.value))

    def job_finished(self, outcome: JobOutcome) -> None:
        self.outcomes.append(outcome)

    def dead_lettered(self, outcomes: list[JobOutcome]) -> None:
        self.dead.append(outcomes)

    def auth_failed(self, service: str, message: str) -> None:
        self.auth.append(message)


def make_engine(
    tmp_path: Path, clock: FakeClock, scenes: int = 3, **config: Any
) -> tuple[SyncEngine, FakePlex, FakeStash, JobStore, Recorder]:
    plex = FakePlex([f"/media/{n}.mp4" for n in range(1, scenes + 1)])
    stash = FakeStash()
    for n in range(1, scenes + 1):
        stash.put(n)
    store = JobStore(tmp_path / "db.sqlite3", clock=clock)
    settings = {
        "plex_url": "http://plex:32400",
        "plex_token": "token",
        "poll_interval": 10,
        "path_mappings": [{"stash_prefix": "/data", "plex_prefix": "/media"}],
        "sync_poster": False,
    }
    settings.update(config)
    recorder = Recorder()
    engine = SyncEngine(
        config=PlexSyncConfig(**settings),
        store=store,
        plex_factory=lambda c: plex,
        stash_factory=lambda c: stash,
        clock=clock,
        rng=random.Random(7),  # jitter is part of the behaviour: the same on every run
        listener=recorder,
    )
    return engine, plex, stash, store, recorder


def run_ticks(engine: SyncEngine, clock: FakeClock, seconds: float) -> None:
    """Drive the engine like a host would, with time passing by the delays it asks for."""
    end = clock.now() + seconds
    while clock.now() < end:
        delay = engine.tick()
        clock.advance(max(delay, 0.01) if delay > 0 else 0.0)
        if delay == 0:
            engine.tick()
            clock.advance(0.01)


def test_first_sync_writes_every_scene_once(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, store, rec = make_engine(tmp_path, fake_clock)
    engine.tick()
    assert len(plex.edits) == 3
    assert store.counts().pending == 0
    assert [o.ok for o in rec.outcomes] == [True, True, True]
    _rk, params = plex.edits[0]
    assert params["title.value"] == "Scene 1" and params["title.locked"] == "1"
    assert params["actor[0].tag.tag"] == "A" and params["genre[1].tag.tag"] == "y"
    assert params["collection[0].tag.tag"] == "Studio"


def test_unchanged_scene_makes_no_write(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, stash, _store, _ = make_engine(tmp_path, fake_clock)
    engine.tick()
    plex.edits.clear()
    stash.put(1)  # touched in Stash (new updated_at), same metadata
    run_ticks(engine, fake_clock, 30)
    assert plex.edits == []
    stash.put(2, title="Renamed")
    run_ticks(engine, fake_clock, 30)
    assert [p["title.value"] for _, p in plex.edits] == ["Renamed"]


def test_outage_opens_breaker_and_never_burns_attempts(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, _stash, store, rec = make_engine(
        tmp_path, fake_clock, failure_threshold=2, recovery_timeout=30, max_retries=0
    )
    plex.fail_with = UnreachableError("Plex is unreachable", "refused")
    run_ticks(engine, fake_clock, 25)
    assert engine.breaker.state is CircuitState.OPEN
    assert store.dlq_count() == 0
    assert store.counts().pending == 3
    assert all(j.attempts == 0 for j in store.list_jobs())
    calls_while_open = len(plex.calls)
    run_ticks(engine, fake_clock, 10)  # still inside the recovery timeout
    assert len(plex.calls) == calls_while_open  # nothing is sent while OPEN
    assert ("closed", "open") in rec.transitions
    assert len(store.outages(0)) == 1 and store.outages(0)[0].ended_at is None


def test_recovery_probe_closes_and_queue_drains_by_itself(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, _stash, store, rec = make_engine(
        tmp_path, fake_clock, failure_threshold=1, recovery_timeout=30
    )
    plex.fail_with = UnreachableError("Plex is unreachable", "refused")
    engine.tick()
    assert engine.breaker.state is CircuitState.OPEN
    plex.fail_with = None
    opened = fake_clock.now()
    while engine.breaker.state is CircuitState.OPEN:
        delay = engine.tick()
        assert delay > 0  # nothing to do but wait: the host sleeps
        assert plex.calls.count("probe") == 0
        fake_clock.advance(delay)
    assert fake_clock.now() - opened == pytest.approx(30, abs=0.5)
    engine.tick()
    assert rec.transitions[-2:] == [("open", "half_open"), ("half_open", "closed")]
    assert plex.calls[plex.calls.index("probe") :][0] == "probe"
    assert store.counts().pending == 0 and len(plex.edits) == 3
    outage = store.outages(0)[0]
    assert outage.duration == pytest.approx(30, abs=0.5)


def test_failed_probe_reopens(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, _store, rec = make_engine(
        tmp_path, fake_clock, failure_threshold=1, recovery_timeout=30
    )
    plex.fail_with = UnreachableError("down", "")
    engine.tick()
    fake_clock.advance(30)
    engine.tick()
    assert rec.transitions == [("closed", "open"), ("open", "half_open"), ("half_open", "open")]


def test_idle_probe_keeps_state_honest(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, _store, _rec = make_engine(tmp_path, fake_clock, failure_threshold=2)
    engine.tick()  # syncs everything
    plex.fail_with = UnreachableError("down", "")
    run_ticks(engine, fake_clock, 35)
    assert engine.breaker.state is CircuitState.OPEN
    assert plex.calls.count("probe") >= 2


def test_transient_errors_back_off_then_dead_letter(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, store, rec = make_engine(
        tmp_path, fake_clock, scenes=1, max_retries=2, failure_threshold=100
    )
    plex.fail_with = TransientError("Plex answered 503", "busy")
    run_ticks(engine, fake_clock, 600)
    assert store.dlq_count() == 1
    entry = store.dlq_list()[0]
    assert entry.attempts == 3 and entry.error_class == "transient"
    assert rec.dead and rec.dead[0][0].dead_lettered


def test_retry_after_is_honoured(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, store, _ = make_engine(tmp_path, fake_clock, scenes=1)
    plex.fail_with = TransientError("429", "", retry_after=120)
    engine.tick()
    job = store.list_jobs()[0]
    assert job.not_before == pytest.approx(fake_clock.now() + 120)


def test_permanent_error_dead_letters_at_once_without_breaker(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, _stash, store, _ = make_engine(tmp_path, fake_clock, failure_threshold=1)
    original_edit = plex.edit

    def bad_edit(item: Any, params: dict[str, str]) -> None:
        if item.rating_key == "1001":
            raise PermanentError("Plex refused the metadata edit (400)", "bad field")
        original_edit(item, params)

    plex.edit = bad_edit  # type: ignore[method-assign]
    engine.tick()
    assert store.dlq_count() == 1
    assert engine.breaker.state is CircuitState.CLOSED
    assert len(plex.edits) == 2


def test_auth_failure_pauses_without_dead_lettering(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, store, rec = make_engine(tmp_path, fake_clock)
    plex.fail_with = AuthError("Plex rejected the token", "401", service="plex")
    run_ticks(engine, fake_clock, 60)
    assert store.dlq_count() == 0 and store.counts().pending == 3
    assert engine.status().auth_error == "Plex rejected the token"
    assert rec.auth == ["Plex rejected the token"]
    assert plex.calls.count("sections") == 1  # no hammering with a bad token
    plex.fail_with = None
    engine.apply_config(engine.config.with_changes(plex_token="new"))
    engine.tick()
    assert engine.status().auth_error is None and store.counts().pending == 0


def test_not_found_waits_then_syncs_after_index_refresh(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, stash, store, _ = make_engine(tmp_path, fake_clock, scenes=1)
    stash.put(9, files=("/data/new.mp4",))
    engine.tick()
    job = store.get_job("9")
    assert job is not None and job.attempts == 1
    from engine.plex.model import PlexItem

    plex.items["2000"] = PlexItem(
        "2000", "1", "new", "", "", "", (), (), (), ("/media/new.mp4",), 10**6
    )
    run_ticks(engine, fake_clock, 700)
    assert store.get_job("9") is None and store.dlq_count() == 0


def test_skip_not_found_drops_with_reason(
    tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine, _plex, stash, store, _ = make_engine(tmp_path, fake_clock, skip_not_found=True)
    stash.put(9, files=("/data/none.mp4",))
    caplog.set_level("INFO")
    engine.tick()
    assert store.get_job("9") is None and store.dlq_count() == 0
    assert "skip_not_found" in caplog.text


def test_pause_and_timed_resume(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, _store, _ = make_engine(tmp_path, fake_clock)
    engine.pause(fake_clock.now() + 900)
    engine.tick()
    assert plex.calls == [] and engine.status().paused
    fake_clock.advance(900)
    engine.tick()
    assert not engine.status().paused and len(plex.edits) == 3


def test_manual_reset_and_retry_now(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, _store, rec = make_engine(tmp_path, fake_clock, failure_threshold=1)
    plex.fail_with = UnreachableError("down", "")
    engine.tick()
    assert engine.breaker.state is CircuitState.OPEN
    plex.fail_with = None
    engine.reset_breaker()
    engine.tick()
    assert engine.breaker.state is CircuitState.CLOSED and len(plex.edits) == 3
    assert rec.transitions[-1] == ("open", "closed")


def test_stop_request_ends_the_tick_promptly(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, store, _ = make_engine(tmp_path, fake_clock, scenes=20)
    original = plex.edit

    def edit_then_stop(item: Any, params: dict[str, str]) -> None:
        original(item, params)
        if len(plex.edits) == 5:
            engine.request_stop()

    plex.edit = edit_then_stop  # type: ignore[method-assign]
    engine.tick()
    assert len(plex.edits) == 5
    counts = store.counts()
    assert counts.pending == 15 and counts.in_progress == 0  # nothing lost, nothing stuck


def test_stash_failure_is_reported_not_fatal(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, _plex, stash, _store, _ = make_engine(tmp_path, fake_clock)
    stash.fail_with = UnreachableError("Stash is unreachable", "refused")
    engine.tick()
    assert engine.status().last_error is not None
    assert engine.status().last_error.startswith("Stash")  # type: ignore[union-attr]
    stash.fail_with = None
    run_ticks(engine, fake_clock, 15)
    assert engine.status().last_error is None


def test_execute_returns_result_from_engine_thread(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, *_ = make_engine(tmp_path, fake_clock)
    future = engine.execute(lambda: 41 + 1)
    assert not future.done()
    engine.tick()
    assert future.result(0) == 42


def test_stash_outage_during_poster_download_spares_the_plex_breaker(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, stash, store, _ = make_engine(
        tmp_path, fake_clock, sync_poster=True, failure_threshold=1
    )
    for n in (1, 2, 3):
        stash.put(n, screenshot=f"http://stash/scene/{n}/screenshot")

    def down(url: str) -> bytes:
        raise UnreachableError("Stash is unreachable", "refused")

    stash.fetch_image = down  # type: ignore[method-assign]
    run_ticks(engine, fake_clock, 30)
    assert engine.breaker.state is CircuitState.CLOSED
    assert store.dlq_count() == 0 and all(j.attempts == 0 for j in store.list_jobs())
    assert engine.status().last_error == "Stash is unreachable"
    del stash.fetch_image  # Stash is back
    run_ticks(engine, fake_clock, 30)
    assert store.counts().pending == 0 and len(plex.posters) == 3


def test_half_open_during_one_probe_is_published(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, _store, rec = make_engine(
        tmp_path, fake_clock, failure_threshold=1, recovery_timeout=30
    )
    published: list[str] = []
    rec.status_changed = lambda status: published.append(status.breaker_state.value)  # type: ignore[method-assign]
    plex.fail_with = UnreachableError("down", "")
    engine.tick()
    plex.fail_with = None
    fake_clock.advance(30)
    published.clear()
    engine.tick()  # the probe opens and closes HALF_OPEN inside this one tick
    assert published[:2] == ["half_open", "closed"]
    assert engine.status().retry_at is None


def test_last_error_clears_once_plex_works_again(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, _store, _ = make_engine(
        tmp_path, fake_clock, failure_threshold=1, recovery_timeout=10
    )
    plex.fail_with = UnreachableError("Plex is unreachable", "refused")
    engine.tick()
    assert engine.status().last_error == "Plex is unreachable"
    plex.fail_with = None
    run_ticks(engine, fake_clock, 15)
    assert engine.status().breaker_state is CircuitState.CLOSED
    assert engine.status().last_error is None


def test_unidentified_new_scene_waits_then_syncs_once_it_has_metadata(
    tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine, plex, stash, store, _ = make_engine(tmp_path, fake_clock, scenes=3)
    stash.put(3, title="", studio="", performers=(), tags=(), date="", details="")
    caplog.set_level("INFO")
    engine.tick()
    assert sorted(rk for rk, _ in plex.edits) == ["1000", "1001"]
    assert store.get_job("3") is None
    assert "no metadata in Stash yet" in caplog.text
    stash.put(3, title="", studio="Identified", performers=(), tags=(), date="", details="")
    run_ticks(engine, fake_clock, 12)
    rating_key, params = plex.edits[-1]
    assert rating_key == "1002" and params["studio.value"] == "Identified"


def test_a_synced_scene_emptied_in_stash_is_cleared_in_plex(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, stash, _store, _ = make_engine(tmp_path, fake_clock, scenes=1)
    engine.tick()
    stash.put(1, studio="", performers=(), tags=(), date="", details="")
    run_ticks(engine, fake_clock, 12)
    _rk, params = plex.edits[-1]
    assert params["studio.value"] == "" and params["summary.value"] == ""
    # Only the tags we wrote are removed, by name (a user's own tags in Plex stay).
    assert params["genre[].tag.tag-"] == "x,y" and params["actor[].tag.tag-"] == "A,B"
    assert params["collection[].tag.tag-"] == "Studio"
