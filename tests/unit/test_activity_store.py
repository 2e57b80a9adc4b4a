"""Recent activity: what a push changed, paging through many rows, retention, the engine's hook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine_fakes import FakePlex, FakeStash
from fake_clock import FakeClock
from test_sync_engine import make_engine, run_ticks

from engine.clock import DAY
from engine.errors import PermanentError
from engine.store.activity import ActivityKind, changes_summary
from engine.store.jobs import JobStore

_ = (FakePlex, FakeStash)  # the fakes behind make_engine

STATE = {
    "title": "A",
    "studio": "S",
    "summary": "",
    "originallyAvailableAt": "2024-01-01",
    "actor": ["P1", "P2"],
    "genre": ["t1"],
    "collection": "S",
    "rating_key": "1",
}


def test_summary_names_scalars_and_counts_tags_with_plurals() -> None:
    new = {**STATE, "title": "B", "studio": "T", "collection": "T"}
    new |= {"genre": ["t1", "t2", "t3"], "actor": ["P1"]}
    text = changes_summary(STATE, new, poster=True)
    assert text == "title, studio, collection, +2 tags, -1 performer, poster"


def test_summary_of_an_unchanged_state_says_so_and_ignores_unmanaged_fields() -> None:
    assert changes_summary(STATE, dict(STATE)) == "nothing to change"
    unmanaged = {**STATE, "genre": None, "title": None}
    assert changes_summary(STATE, unmanaged) == "nothing to change"
    assert changes_summary(STATE, {**STATE, "genre": ["T1"]}) == "nothing to change"  # case


def test_pages_walk_100000_rows_newest_first_without_gaps(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    store = JobStore(tmp_path / "db.sqlite3", clock=fake_clock)
    now = fake_clock.now()
    rows = [(now + n, ActivityKind.SYNCED, str(n), f"S{n}", "title") for n in range(100_000)]
    store.add_activity_rows(rows)
    first = store.activity_page(100)
    assert [a.scene_id for a in first[:2]] == ["99999", "99998"]
    seen = len(first)
    last_id = first[-1].id
    while page := store.activity_page(5000, before_id=last_id):
        seen += len(page)
        last_id = page[-1].id
    assert seen == store.activity_count() == 100_000
    store.close()


def test_purge_keeps_what_is_within_retention(tmp_path: Path, fake_clock: FakeClock) -> None:
    store = JobStore(tmp_path / "db.sqlite3", clock=fake_clock)
    store.record_activity(ActivityKind.SYNCED, scene_id="old", title="Old")
    fake_clock.advance(10 * DAY)
    store.record_activity(ActivityKind.FAILED, scene_id="new", title="New", summary="boom")
    assert store.activity_purge(7) == 1
    assert [a.scene_id for a in store.activity_page()] == ["new"]
    store.close()


def test_engine_records_syncs_with_changes_failures_and_purges_with_dlq(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, stash, store, _ = make_engine(tmp_path, fake_clock, dlq_retention_days=3)
    original_edit = plex.edit

    def bad_edit(item: Any, params: dict[str, str]) -> None:
        if item.rating_key == "1002":
            raise PermanentError("Plex refused the metadata edit (400)", "bad field")
        original_edit(item, params)

    plex.edit = bad_edit  # type: ignore[method-assign]
    engine.tick()
    stash.put(1, title="Renamed", tags=("x", "y", "z"), performers=("A",))
    run_ticks(engine, fake_clock, 30)
    entries = store.activity_page()
    latest = entries[0]
    assert (latest.kind, latest.title, latest.rating_key) == (
        ActivityKind.SYNCED,
        "Renamed",
        "1000",
    )
    assert latest.summary == "title, +1 tag, -1 performer"
    failed = [a for a in entries if a.kind is ActivityKind.FAILED]
    assert [(a.scene_id, a.summary) for a in failed] == [
        ("3", "Plex refused the metadata edit (400)")
    ]
    fake_clock.advance(5 * DAY)
    engine.tick()  # the daily purge is due
    assert store.activity_count() == 0 and store.dlq_count() == 0
    engine.close()
