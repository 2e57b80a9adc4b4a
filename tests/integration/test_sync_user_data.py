"""What the user made in Plex survives syncing: the real Plex's truncated listings and
whole-list tag PUTs (issue 10 point 1), and Stash's text sent as it is (issue 12 point 7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_helpers import config_for, drive, engine_for, plex_item_for, settle, simulators

from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

USER_COLLECTIONS = ["Favourites", "Watch Later", "Best of 2020", "Rainy Days"]


def _rating_key(plex: PlexSimulator, stash: StashSimulator, scene_id: int) -> int:
    item = plex_item_for(plex, stash.scene(scene_id) or {})
    assert item is not None
    return int(item["ratingKey"])


def test_user_collections_survive_first_sync_studio_change_and_removal(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        simulators(n=4) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ),
    ):
        stash.update_scene(2, studio="Old Studio")
        rating_key = _rating_key(plex, stash, 2)
        plex.set_tags(rating_key, "collection", USER_COLLECTIONS)  # listings show only two
        settle(engine, fake_clock)
        item = plex.item(rating_key)
        assert item is not None and item["collections"] == [*USER_COLLECTIONS, "Old Studio"]

        stash.update_scene(2, studio="New Studio")
        drive(engine, fake_clock, 12)
        item = plex.item(rating_key)
        assert item is not None and item["collections"] == [*USER_COLLECTIONS, "New Studio"]

        stash.update_scene(2, studio=None)
        drive(engine, fake_clock, 12)
        item = plex.item(rating_key)
        assert item is not None and item["collections"] == USER_COLLECTIONS
        assert store.dlq_count() == 0


def test_user_genres_and_actors_survive_while_ours_follow_stash(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        simulators(n=4) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ),
    ):
        stash.update_scene(3, tags=["S1", "S2"], performers=["Ana"])
        rating_key = _rating_key(plex, stash, 3)
        plex.set_tags(rating_key, "genre", ["Mine 1", "Mine 2", "Mine 3"])
        plex.set_tags(rating_key, "actor", ["Extra 1", "Extra 2", "Extra 3", "Extra 4"])
        settle(engine, fake_clock)
        item = plex.item(rating_key)
        assert item is not None
        assert item["genres"] == ["Mine 1", "Mine 2", "Mine 3", "S1", "S2"]
        assert item["actors"] == ["Extra 1", "Extra 2", "Extra 3", "Extra 4", "Ana"]

        stash.update_scene(3, tags=["S2", "S3"], performers=[])
        drive(engine, fake_clock, 12)
        item = plex.item(rating_key)
        assert item is not None
        assert item["genres"] == ["Mine 1", "Mine 2", "Mine 3", "S2", "S3"]  # S1 was ours
        assert item["actors"] == ["Extra 1", "Extra 2", "Extra 3", "Extra 4"]


def test_long_lists_and_joiners_reach_plex_as_stash_has_them(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        simulators(n=3) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ),
    ):
        tags = [f"Tag {n:03d}" for n in range(130)]
        title = "👩‍👩‍👧 " + "می‌خواهم " + "x" * 300  # ZWJ emoji, Persian ZWNJ, 300+ chars
        stash.update_scene(1, title=title, tags=tags)
        settle(engine, fake_clock)
        item = plex_item_for(plex, stash.scene(1) or {})
        assert item is not None
        assert item["title"] == title and item["genres"] == tags
