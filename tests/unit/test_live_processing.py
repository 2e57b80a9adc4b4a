"""A new Plex item is written only once Plex has processed it (fake clock, fake Plex)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from engine_fakes import FakePlex
from fake_clock import FakeClock
from test_sync_engine import make_engine

from engine.live.messages import ItemState, LiveSignal, PlexNews, plex_news
from engine.live.processing import NewItemWatch
from engine.store.jobs import JobStore
from engine.sync.engine import SyncEngine

NEW = "2000"  # the rating key Plex gives the file of scene 3


def _states(*states: int, item: str = NEW, section: str = "1") -> PlexNews:
    return PlexNews(tuple(ItemState(item, section, s) for s in states))


def _scene_three_waits(
    tmp_path: Path, clock: FakeClock, **config: object
) -> tuple[SyncEngine, FakePlex, JobStore]:
    """Scene 3 is queued while Plex lacks its file; then Plex creates the item (state 0)."""
    engine, plex, stash, store, _ = make_engine(tmp_path, clock, scenes=2, **config)
    stash.put(3)
    engine.tick()  # scene 3: not found, waiting
    plex.items[NEW] = replace(plex.items["1000"], rating_key=NEW, files=("/media/3.mp4",))
    plex.edits.clear()
    engine.live_signal(_states(0))  # as the Plex stream hands over a created item
    engine.live_signal(LiveSignal.PLEX_ITEMS_ADDED)
    engine.tick()
    return engine, plex, store


def _written(plex: FakePlex) -> bool:
    return any(rating_key == NEW for rating_key, _ in plex.edits)


def test_a_new_item_is_not_written_before_plex_processed_it(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, store = _scene_three_waits(tmp_path, fake_clock)
    assert not _written(plex)  # the agent would overwrite it
    job = store.get_job("3")
    assert job is not None and job.attempts == 1  # held, not failed: no attempt used
    for state in (2, 3, 4):
        engine.live_signal(_states(state))
        engine.tick()
        assert not _written(plex)
    engine.live_signal(_states(5))
    engine.tick()
    assert _written(plex)
    assert store.get_job("3") is None


def test_the_end_of_its_sections_scan_releases_a_new_item(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, store = _scene_three_waits(tmp_path, fake_clock)
    engine.live_signal(PlexNews(scans_ended=("2",)))  # another section's scan
    engine.tick()
    assert not _written(plex)
    engine.live_signal(PlexNews(scans_ended=("1",)))
    engine.tick()
    assert _written(plex) and store.get_job("3") is None


def test_a_new_item_is_written_after_the_timeout_when_plex_says_nothing(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, store = _scene_three_waits(tmp_path, fake_clock)
    fake_clock.advance(119.0)
    engine.tick()
    assert not _written(plex)
    delay = engine.tick()
    assert 0 < delay <= 1.0 + 1e-6  # the engine wakes for the time-out, not the poll
    fake_clock.advance(1.5)
    engine.tick()
    assert _written(plex) and store.get_job("3") is None


def test_state_one_with_no_agent_ends_the_wait_after_a_grace(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, _ = _scene_three_waits(tmp_path, fake_clock)
    engine.live_signal(_states(1))  # a library with no agent: processing ends at 1
    engine.tick()
    assert not _written(plex)
    fake_clock.advance(5.0)
    engine.tick()
    assert _written(plex)


def test_state_one_is_only_progress_while_an_agent_works() -> None:
    clock = FakeClock()
    watch = NewItemWatch(clock, timeout=120.0, grace=5.0)
    watch.heard(_states(0, 2))
    assert watch.hold(NEW, "3") is not None
    assert watch.heard(_states(1)) == []
    clock.advance(10.0)
    assert watch.due() == []
    assert watch.hold(NEW, "3") == pytest.approx(110.0)
    assert watch.heard(_states(5)) == ["3"]
    assert watch.hold(NEW, "3") is None


def test_items_not_seen_created_are_never_held() -> None:
    watch = NewItemWatch(FakeClock())
    assert watch.heard(_states(5, 2, 1)) == []  # edits and refreshes of old items
    assert watch.hold(NEW, "3") is None
    assert len(watch) == 0


def test_a_deleted_new_item_releases_its_scene() -> None:
    watch = NewItemWatch(FakeClock())
    watch.heard(_states(0))
    watch.hold(NEW, "3")
    assert watch.heard(_states(9)) == ["3"]
    assert watch.next_due() is None


def test_plex_news_reads_item_states_and_ended_scans() -> None:
    entries = [
        {"identifier": "com.plexapp.plugins.library", "sectionID": "1", "itemID": "7", "state": 0},
        {"identifier": "com.plexapp.plugins.library", "itemID": 8, "state": 5, "sectionID": 1},
        {"identifier": "com.plexapp.plugins.library", "itemID": "9", "state": True},
        {"identifier": "other", "itemID": "10", "state": 0},
        {"identifier": "com.plexapp.plugins.library", "state": 0},
    ]
    timeline = {"type": "timeline", "TimelineEntry": entries}
    news = plex_news(json.dumps({"NotificationContainer": timeline}))
    assert news == PlexNews((ItemState("7", "1", 0), ItemState("8", "1", 5)))
    activity = {"type": "library.update.section", "Context": {"librarySectionID": "1"}}
    notes = [{"event": "ended", "Activity": activity}, {"event": "started", "Activity": activity}]
    ended = {"type": "activity", "ActivityNotification": notes}
    assert plex_news(json.dumps({"NotificationContainer": ended})) == PlexNews(scans_ended=("1",))
    for nothing in ("[]", "{", '{"NotificationContainer": {"type": "status"}}'):
        assert plex_news(nothing) is None
