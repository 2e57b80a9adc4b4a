"""Issue 24 against the simulators: director, code, content rating, added at, sort title, labels
and the rating reach Plex in the edit (the rating by Plex's rate call), cost what they should,
and the library check finds and fixes drift in them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from fake_clock import FakeClock
from sync_helpers import (
    TOKEN,
    config_for,
    engine_for,
    plex_item_for,
    run_check,
    settle,
    simulators,
    user_edit,
)

from engine.sync.engine import SyncEngine
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

RATE = "PUT /:/rate"
EDIT = "PUT /library/sections/{id}/all"
EVERYTHING = {
    "sync_poster": False,
    "content_rating": "XXX",
    "sync_added_at": True,
    "sync_sort_title": True,
    "tags_as": "both",
    "code_field": "tagline",
}


@pytest.fixture
def sims(fake_clock: FakeClock) -> Iterator[tuple[PlexSimulator, StashSimulator]]:
    with simulators(n=8, seed=5, clock=fake_clock) as both:
        yield both


def scene_with_file(stash: StashSimulator) -> dict[str, Any]:
    for n in range(1, 9):
        scene = stash.scene(n)
        if scene and scene["files"]:
            return scene
    raise AssertionError("no scene with a file")


def edit_scene(
    stash: StashSimulator, fake_clock: FakeClock, scene_id: str, **fields: Any
) -> dict[str, Any]:
    fake_clock.advance(2)
    return stash.update_scene(scene_id, **fields)


def by_route(plex: PlexSimulator) -> dict[str, int]:
    routes: dict[str, int] = plex.stats()["by_route"]
    plex.reset_stats()
    return routes


def test_every_new_field_reaches_plex_in_one_edit_and_the_rating_by_its_own_call(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = scene_with_file(stash)
    scene = edit_scene(
        stash,
        fake_clock,
        scene["id"],
        code="ABC-123",
        director="Dee Rector",
        rating100=87,
        date="2024-05-06",
        tags=["Kept", "Secret"],
    )
    config = config_for(plex, stash, tag_exclude=["secret"], **EVERYTHING)
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None
        assert item["tagline"] == "ABC-123" and item["directors"] == ["Dee Rector"]
        assert item["contentRating"] == "XXX"
        assert item["titleSort"] == f"2024-05-06 {scene['title']}"
        assert item["genres"] == item["labels"] == ["Kept"]  # "Secret" is excluded
        assert item["userRating"] == "9.0"  # 87 of 100: four and a half stars
        assert {"director", "tagline", "contentRating", "titleSort", "label"} <= set(item["locked"])
        created = datetime.fromisoformat(str(scene["created_at"]).replace("Z", "+00:00"))
        assert item["addedAt"] == int(created.timestamp())  # Stash's created_at


def test_a_changed_rating_is_one_request_and_an_unchanged_scene_none(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = scene_with_file(stash)
    edit_scene(stash, fake_clock, scene["id"], rating100=60)
    with engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
        engine,
        _store,
    ):
        settle(engine, fake_clock)
        by_route(plex)
        edit_scene(stash, fake_clock, scene["id"], rating100=80)
        settle_after_poll(engine, fake_clock)
        routes = by_route(plex)
        assert routes.get(RATE) == 1 and EDIT not in routes  # only the rating changed
        item = plex_item_for(plex, scene)
        assert item is not None and item["userRating"] == "8.0"

        edit_scene(stash, fake_clock, scene["id"], rating100=None)  # removed in Stash
        settle_after_poll(engine, fake_clock)
        assert by_route(plex).get(RATE) == 1
        item = plex_item_for(plex, scene)
        assert item is not None and item["userRating"] is None

        edit_scene(stash, fake_clock, scene["id"], details="Same rating, new text")
        settle_after_poll(engine, fake_clock)
        routes = by_route(plex)
        assert routes.get(EDIT) == 1 and RATE not in routes


def test_a_users_own_plex_rating_stays_when_stash_has_none(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = scene_with_file(stash)
    edit_scene(stash, fake_clock, scene["id"], rating100=None)
    item = plex_item_for(plex, scene)
    assert item is not None
    rate(plex, int(item["ratingKey"]), 6)
    with engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
        engine,
        _store,
    ):
        settle(engine, fake_clock)
    item = plex_item_for(plex, scene)
    assert item is not None and item["userRating"] == "6.0"


def test_the_library_check_finds_drift_in_the_new_fields_and_fix_restores_them(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = scene_with_file(stash)
    edit_scene(stash, fake_clock, scene["id"], code="ABC-123", director="Dee", rating100=70)
    config = config_for(plex, stash, **EVERYTHING)
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None
        rating_key = int(item["ratingKey"])
        fake_clock.advance(60)
        user_edit(plex, rating_key, **{"tagline.value": "Mine", "director[0].tag.tag": "Other"})
        rate(plex, rating_key, 2)
        run_check(engine, fake_clock)
        (finding,) = [f for f in engine.checker.checks.findings() if f.scene_id == scene["id"]]
        assert {"tagline", "director", "userRating"} <= set(finding.fields)
        engine.check_fix(None)
        settle(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None
        assert item["tagline"] == "ABC-123"
        assert item["directors"] == ["Other", "Dee"]  # ours back; the user's own is theirs
        assert item["userRating"] == "7.0"


def settle_after_poll(engine: SyncEngine, fake_clock: FakeClock) -> None:
    engine.sync_now()
    settle(engine, fake_clock)


def rate(plex: PlexSimulator, rating_key: int, rating: float) -> None:
    """What a Plex client sends when the user rates an item (plexapi `rate`)."""
    response = requests.put(
        f"{plex.url}/:/rate",
        params={
            "key": str(rating_key),
            "identifier": "com.plexapp.plugins.library",
            "rating": str(rating),
        },
        headers={"X-Plex-Token": TOKEN},
        timeout=5,
    )
    assert response.status_code == 200


def test_chosen_tags_become_collections_and_leave_with_the_tag(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = scene_with_file(stash)
    scene = edit_scene(stash, fake_clock, scene["id"], tags=["Series A", "Other"])
    config = config_for(plex, stash, sync_poster=False, tag_collections=["series a"])
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None and "Series A" in item["collections"]
        assert "Other" not in item["collections"]
        if scene["studio"]:
            assert scene["studio"] in item["collections"]  # the studio's stays beside it
        edit_scene(stash, fake_clock, scene["id"], tags=["Other"])
        settle_after_poll(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None and "Series A" not in item["collections"]


def test_the_parent_studio_is_a_collection_that_follows_its_rename(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = scene_with_file(stash)
    scene = edit_scene(stash, fake_clock, scene["id"], studio="Child Studio")
    objects = stash.store.objects
    with stash.store.lock:
        child = objects.ref("studio", "Child Studio")
        parent = objects.ref("studio", "Parent Studio")
        objects.set_parent(child, parent)
    edit_scene(stash, fake_clock, scene["id"], details="Now with a parent studio")
    config = config_for(plex, stash, sync_poster=False, parent_studio_collection="parent_child")
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None
        assert item["collections"][-2:] == ["Child Studio", "Parent Studio / Child Studio"]

        fake_clock.advance(5)
        with stash.store.lock:
            objects.rename("studio", parent, "Parent Renamed")  # the child's scenes are not touched
        settle_after_poll(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None
        assert "Parent Renamed / Child Studio" in item["collections"]
        assert "Parent Studio / Child Studio" not in item["collections"]  # ours, so it goes


def test_groups_become_collections_and_follow_a_rename_and_a_delete(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = scene_with_file(stash)
    scene = edit_scene(stash, fake_clock, scene["id"], groups=[("Trilogy", 2)])
    config = config_for(plex, stash, sync_poster=False, group_collection_prefix="Group: ")
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None and "Group: Trilogy" in item["collections"]

        objects = stash.store.objects
        fake_clock.advance(5)
        with stash.store.lock:
            group = objects.ref("group", "Trilogy")
            objects.rename("group", group, "Trilogy (2024)")  # the scene is not touched
        settle_after_poll(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None and "Group: Trilogy (2024)" in item["collections"]
        assert "Group: Trilogy" not in item["collections"]

        fake_clock.advance(5)
        with stash.store.lock:
            objects.destroy("group", group)
        for _ in range(3):  # the sweep notices the vanished group, then its scenes are read
            settle_after_poll(engine, fake_clock)
            fake_clock.advance(5)
        item = plex_item_for(plex, scene)
        assert item is not None
        assert not any(c.startswith("Group: ") for c in item["collections"])


def test_a_studio_given_a_parent_later_reaches_its_scenes(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = scene_with_file(stash)
    scene = edit_scene(stash, fake_clock, scene["id"], studio="Lone Studio")
    config = config_for(plex, stash, sync_poster=False, parent_studio_collection="parent")
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock)
        objects = stash.store.objects
        fake_clock.advance(5)
        with stash.store.lock:
            child = objects.ref("studio", "Lone Studio")
            parent = objects.ref("studio", "New Parent")
            objects.set_parent(child, parent)
            objects.touch("studio", child)  # studioUpdate stamps updated_at, not the scenes'
        settle_after_poll(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None and "New Parent" in item["collections"]


def test_performers_tags_become_genres_and_follow_a_rename(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = scene_with_file(stash)
    scene = edit_scene(stash, fake_clock, scene["id"], performers=["Ada Lane"], tags=["Own"])
    objects = stash.store.objects
    with stash.store.lock:
        performer = objects.get("performer", objects.ref("performer", "Ada Lane"))
        tag = objects.ref("tag", "Blonde")
        assert performer is not None
        performer.tags = [tag]
    edit_scene(stash, fake_clock, scene["id"], details="Read with the performer's tags")
    config = config_for(plex, stash, sync_poster=False, performer_tags_as_genres=True)
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None and {"Own", "Blonde"} <= set(item["genres"])
        fake_clock.advance(5)
        with stash.store.lock:
            objects.rename("tag", tag, "Blond")  # on the performer, not on the scene
        settle_after_poll(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None and "Blond" in item["genres"] and "Blonde" not in item["genres"]


def test_an_excluded_tag_keeps_its_sub_tags_out_and_a_parent_rename_lets_them_in(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = scene_with_file(stash)
    scene = edit_scene(stash, fake_clock, scene["id"], tags=["Kept", "Sub"])
    objects = stash.store.objects
    with stash.store.lock:
        parent = objects.ref("tag", "Secret")
        objects.set_tag_parents(objects.ref("tag", "Sub"), [parent])
    edit_scene(stash, fake_clock, scene["id"], details="Read with its tags' parents")
    config = config_for(
        plex, stash, sync_poster=False, tag_exclude=["Secret"], tag_exclude_children=True
    )
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None and "Kept" in item["genres"] and "Sub" not in item["genres"]
        fake_clock.advance(5)
        with stash.store.lock:
            objects.rename("tag", parent, "Public")  # no longer excluded: its sub-tag may go
        settle_after_poll(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None and "Sub" in item["genres"]
