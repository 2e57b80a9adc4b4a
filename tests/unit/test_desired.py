"""Planning one Plex edit: locks, our tags versus the user's, and Stash's text as it is."""

from __future__ import annotations

from dataclasses import replace

from engine.config.file import PlexSyncConfig
from engine.plan.desired import apply_params, plan_edit
from engine.plex.model import PlexItem

LISTED = PlexItem("7", "1", "t", "", "", "", ("G1", "G2"), (), ("C1", "C2"), ("/a",), 0)
FULL = replace(LISTED, genres=("G1", "G2", "G3"), collections=("C1", "C2", "C3"), complete=True)


def test_locking_off_sends_unlock_for_every_managed_field() -> None:
    config = PlexSyncConfig(lock_synced_fields=False, sync_performers=False)
    plan = plan_edit({"title": "T", "studio": "S", "tags": ["G1"]}, FULL, config, previous=None)
    locks = {k: v for k, v in plan.params.items() if k.endswith(".locked")}
    assert locks == {
        "title.locked": "0",
        "studio.locked": "0",
        "summary.locked": "0",
        "originallyAvailableAt.locked": "0",
        "genre.locked": "0",
        "collection.locked": "0",
    }


def test_adding_to_a_listing_item_asks_for_the_full_item_first() -> None:
    plan = plan_edit({"title": "T", "tags": ["New"]}, LISTED, PlexSyncConfig(), previous=None)
    assert plan.needs_full_item
    assert not any("[" in key for key in plan.params)  # no list write from truncated tags


def test_full_item_keeps_every_user_tag_and_swaps_only_our_studio() -> None:
    previous = {"genre": ["G3"], "collection": "C3"}
    plan = plan_edit(
        {"title": "T", "studio": "S2", "tags": ["New"]}, FULL, PlexSyncConfig(), previous=previous
    )
    after = apply_params(FULL, plan.params)
    assert after.genres == ("G1", "G2", "New")
    assert after.collections == ("C1", "C2", "S2")


def test_removing_only_our_tags_needs_no_full_item_and_names_only_them() -> None:
    previous = {"genre": ["G2", "Gone"], "collection": "C2"}
    plan = plan_edit({"title": "T", "tags": ["G2"]}, LISTED, PlexSyncConfig(), previous=previous)
    assert not plan.needs_full_item
    assert plan.params["genre[].tag.tag-"] == "Gone"
    assert plan.params["collection[].tag.tag-"] == "C2"


def test_text_is_sent_as_stash_has_it_and_what_plex_cannot_store_is_noted() -> None:
    title = "  👩‍👩‍👧 می‌خواهم " + "x" * 400
    payload = {"title": title, "tags": [f"t{n}" for n in range(150)], "details": "a\x00b"}
    plan = plan_edit(payload, FULL, PlexSyncConfig(), previous=None)
    assert plan.params["title.value"] == title.strip()
    assert plan.params["genre[152].tag.tag"] == "t149"  # G1-G3 kept, then all 150
    assert plan.params["summary.value"] == "ab"
    assert plan.notes == ["1 control character(s) Plex cannot store left out of the summary"]


def test_remembered_tags_add_genres_but_never_rebuild_collections() -> None:
    remembered = replace(FULL, partial=frozenset({"collection"}))  # as `known_tags` returns it
    previous = {"genre": ["G1", "G2", "G3"], "collection": "C3"}
    genre_only = plan_edit(
        {"title": "T", "studio": "C3", "tags": ["G1", "G2", "G3", "G4"]},
        remembered,
        PlexSyncConfig(),
        previous=previous,
    )
    assert not genre_only.needs_full_item and genre_only.params["genre[3].tag.tag"] == "G4"
    renamed = plan_edit(
        {"title": "T", "studio": "New Studio", "tags": ["G1", "G2", "G3"]},
        remembered,
        PlexSyncConfig(),
        previous=previous,
    )
    assert renamed.needs_full_item  # the collection list is read, not rebuilt from memory
    assert not any(key.startswith("collection[") for key in renamed.params)
