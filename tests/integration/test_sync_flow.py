"""The engine against the Plex and Stash simulators: what reaches Plex, and what it costs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_helpers import (
    config_for,
    drive,
    engine_for,
    expected_item,
    item_view,
    plex_item_for,
    settle,
    simulators,
)

pytestmark = pytest.mark.integration


def test_first_full_sync_makes_plex_match_stash(tmp_path: Path, fake_clock: FakeClock) -> None:
    with (
        simulators(n=40) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash), fake_clock) as (engine, store),
    ):
        settle(engine, fake_clock)
        synced = 0
        for k in range(1, 41):
            scene = stash.scene(k)
            assert scene is not None
            item = plex_item_for(plex, scene)
            if not scene["files"]:
                continue
            assert item is not None
            assert item_view(item) == expected_item(scene), k
            assert {"title", "studio", "genre", "actor"} <= set(item["locked"])
            assert item["poster_sha256"] is not None
            synced += 1
        assert synced >= 35
        assert store.dlq_count() == 0
        by_route = plex.stats()["by_route"]
        assert by_route["PUT /library/sections/{id}/all"] == synced  # one PUT per scene
        # At most one full-item read per scene: adding tags needs every tag the item has,
        # because listings truncate them and an indexed list replaces the item's whole list.
        assert by_route.get("GET /library/metadata/{ids}", 0) <= synced


def test_unchanged_scene_makes_zero_writes_and_a_change_one(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        simulators(n=10) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ),
    ):
        settle(engine, fake_clock)
        plex.reset_stats()
        scene = stash.scene(2)
        assert scene is not None
        stash.update_scene(2, title=scene["title"])  # touched, nothing changed
        drive(engine, fake_clock, 12)
        assert plex.stats()["by_method"].get("PUT", 0) == 0
        stash.update_scene(2, title="A New Title ✓", details="Line one.\n\nLine two.")
        drive(engine, fake_clock, 12)
        stats = plex.stats()
        assert stats["by_method"] == {"PUT": 1} or stats["by_method"].get("PUT") == 1
        item = plex_item_for(plex, stash.scene(2) or {})
        assert item is not None
        assert item["title"] == "A New Title ✓"
        assert item["summary"] == "Line one.\n\nLine two."  # paragraphs survive


def test_removed_tags_and_performers_are_removed(tmp_path: Path, fake_clock: FakeClock) -> None:
    with (
        simulators(n=6) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ),
    ):
        stash.update_scene(1, tags=["A", "B", "C", "D", "E", "F"], performers=["P", "Q", "R", "S"])
        settle(engine, fake_clock)
        item = plex_item_for(plex, stash.scene(1) or {})
        assert item is not None and item["genres"] == ["A", "B", "C", "D", "E", "F"]
        stash.update_scene(1, tags=["A", "F"], performers=["Q"])
        drive(engine, fake_clock, 12)
        item = plex_item_for(plex, stash.scene(1) or {})
        assert item is not None
        assert (item["genres"], item["actors"]) == (["A", "F"], ["Q"])
        stash.update_scene(1, tags=[], performers=[], studio=None, details="", date=None)
        drive(engine, fake_clock, 12)
        item = plex_item_for(plex, stash.scene(1) or {})
        assert item is not None
        assert (item["genres"], item["actors"]) == ([], [])
        assert not item["studio"] and not item["summary"] and not item["originallyAvailableAt"]
        assert item["title"]  # the title is never cleared


def test_truncated_listing_cannot_drop_tags(tmp_path: Path, fake_clock: FakeClock) -> None:
    """Listings show two genres; a change must still leave all the scene's tags in Plex."""
    with (
        simulators(n=4) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ),
    ):
        tags = ["T1", "T2", "T3", "T4", "T5"]
        stash.update_scene(3, tags=tags)
        settle(engine, fake_clock)
        stash.update_scene(3, tags=[*tags, "T6"], title="Changed")
        drive(engine, fake_clock, 12)
        item = plex_item_for(plex, stash.scene(3) or {})
        assert item is not None and item["genres"] == [*tags, "T6"]


def test_user_collections_are_kept_when_the_studio_changes(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        simulators(n=4) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ),
    ):
        stash.update_scene(2, studio="Old Studio")
        settle(engine, fake_clock)
        stash.update_scene(2, studio="New Studio")
        drive(engine, fake_clock, 12)
        item = plex_item_for(plex, stash.scene(2) or {})
        assert item is not None and item["collections"] == ["New Studio"]


def test_without_path_mapping_a_file_name_is_only_a_possible_match_until_confirmed(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    # Stash's /data is Plex's /media, and no mapping says so: a file name alone used to be
    # enough (issue 22.1). Now each scene waits in the DLQ until the user confirms its match.
    with (
        simulators(n=8) as (plex, stash),
        engine_for(
            tmp_path, config_for(plex, stash, path_mappings=[], sync_poster=False), fake_clock
        ) as (engine, store),
    ):
        settle(engine, fake_clock)
        assert plex.stats()["by_method"].get("PUT", 0) == 0
        entries = store.dlq_list()
        assert len(entries) >= 7 and {e.error_class for e in entries} == {"possible_match"}
        entry = entries[0]
        assert store.dlq_confirm(entry.id) == 1
        settle(engine, fake_clock)
        assert store.pushed(entry.scene_id) is not None
        assert plex.stats()["by_method"]["PUT"] >= 1
        assert entry.scene_id not in {e.scene_id for e in store.dlq_list()}


def test_ambiguous_match_goes_to_dlq_with_candidates(tmp_path: Path, fake_clock: FakeClock) -> None:
    with (
        simulators(n=5) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ),
    ):
        scene_id = next(k for k in range(1, 6) if (stash.scene(k) or {}).get("files"))
        name = stash.scene(scene_id)["files"][0].rsplit("/", 1)[1]  # type: ignore[index]
        # Moved in Stash, not yet in Plex: two same-name items under the mapped prefix.
        stash.update_scene(scene_id, files=[f"/data/moved/{name}"])
        plex.add_movie(file=f"/media/copy/{name}", title="Copy")
        settle(engine, fake_clock)
        entries = [e for e in store.dlq_list() if e.scene_id == str(scene_id)]
        assert len(entries) == 1
        assert entries[0].error_class == "ambiguous"
        assert "/media/copy/" in entries[0].message
        assert engine.breaker.state.value == "closed"


def test_not_found_then_found_after_index_refresh(tmp_path: Path, fake_clock: FakeClock) -> None:
    with (
        simulators(n=3) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ),
    ):
        stash.update_scene(2, files=["/data/new/arrived-late.mp4"])
        drive(engine, fake_clock, 2)
        job = store.get_job("2")
        assert job is not None and job.attempts == 1 and job.last_error
        assert engine.breaker.state.value == "closed"  # not found never trips the breaker
        plex.add_movie(file="/media/new/arrived-late.mp4", title="arrived late")
        settle(engine, fake_clock)
        assert store.get_job("2") is None and store.dlq_count() == 0
        item = plex_item_for(plex, stash.scene(2) or {})
        assert item is not None and item["title"] == stash.scene(2)["title"]  # type: ignore[index]
