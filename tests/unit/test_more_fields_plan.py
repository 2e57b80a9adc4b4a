"""Issue 24's fields in the one edit: director, the studio code, content rating, added at, the
sort title, tags as labels, the exclude list, and the rating through Plex's own call."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from engine.check.drift import compare
from engine.config.file import PlexSyncConfig
from engine.plan.desired import NO_RATING, apply_params, plan_edit, plan_rating, wanted_state
from engine.plex.model import PlexItem

ITEM = PlexItem("7", "1", "Old", "", "", "", (), (), (), ("/a",), 1_700_000_000, complete=True)
SCENE: dict[str, Any] = {
    "title": "Scene",
    "date": "2024-05-06",
    "code": "ABC-123",
    "director": "Dee Rector",
    "rating100": 87,
    "created_at": "2024-05-06T10:00:00+02:00",
    "tags": ["Kept", "Secret", "Both"],
}


def params_for(
    payload: dict[str, Any],
    item: PlexItem = ITEM,
    previous: dict[str, Any] | None = None,
    **cfg: Any,
) -> dict[str, str]:
    return plan_edit(payload, item, PlexSyncConfig(**cfg), previous=previous).params


def test_director_and_code_go_in_the_same_edit_by_default() -> None:
    params = params_for(SCENE)
    assert params["director[0].tag.tag"] == "Dee Rector"
    assert params["tagline.value"] == "ABC-123"
    assert params["director.locked"] == params["tagline.locked"] == "1"
    assert "addedAt.value" not in params and "titleSort.value" not in params  # off by default
    assert "contentRating.value" not in params  # none set


@pytest.mark.parametrize("field", ["originalTitle", "editionTitle"])
def test_the_code_goes_to_the_field_the_user_picks(field: str) -> None:
    params = params_for(SCENE, code_field=field)
    assert params[f"{field}.value"] == "ABC-123" and "tagline.value" not in params


def test_the_code_goes_nowhere_when_off() -> None:
    params = params_for(SCENE, code_field="off")
    assert not any(key.startswith(("tagline", "originalTitle", "editionTitle")) for key in params)


def test_a_fixed_content_rating_added_at_and_a_date_sort_title() -> None:
    params = params_for(SCENE, content_rating="XXX", sync_added_at=True, sync_sort_title=True)
    assert params["contentRating.value"] == "XXX"
    assert params["addedAt.value"] == "1714982400"  # 2024-05-06 08:00 UTC
    assert params["titleSort.value"] == "2024-05-06 Scene"


def test_an_empty_code_leaves_plex_s_own_tagline_unless_we_wrote_it() -> None:
    item = replace(ITEM, texts=(("tagline", "The agent's tagline"),))
    assert "tagline.value" not in params_for({**SCENE, "code": ""}, item)
    ours = {"tagline": "ABC-123"}
    assert params_for({**SCENE, "code": ""}, item, previous=ours)["tagline.value"] == ""


def test_tags_as_labels_or_both_and_the_exclude_list() -> None:
    labels = params_for(SCENE, tags_as="labels", tag_exclude=["secret"])
    assert [labels[f"label[{i}].tag.tag"] for i in range(2)] == ["Kept", "Both"]
    assert not any(key.startswith("genre[") for key in labels)  # no genres of ours to remove
    both = params_for(SCENE, tags_as="both")
    assert both["genre[2].tag.tag"] == both["label[2].tag.tag"] == "Both"


def test_switching_to_labels_removes_only_the_genres_we_wrote() -> None:
    item = replace(ITEM, genres=("Kept", "Users own"))
    params = params_for(SCENE, item, previous={"genre": ["Kept"]}, tags_as="labels")
    assert params["genre[].tag.tag-"] == "Kept"


def test_a_director_list_we_never_wrote_is_left_alone_when_stash_has_none() -> None:
    item = replace(ITEM, directors=("Someone",))
    params = params_for({**SCENE, "director": ""}, item)
    assert not any(key.startswith("director") for key in params)


def test_applying_the_edit_keeps_the_index_true() -> None:
    params = params_for(SCENE, sync_added_at=True, tags_as="both")
    after = apply_params(ITEM, params)
    assert after.directors == ("Dee Rector",) and after.text("tagline") == "ABC-123"
    assert after.added_at == 1_714_982_400 and "Both" in after.labels


@pytest.mark.parametrize(
    ("rating100", "plex"), [(87, 9.0), (84, 8.0), (100, 10.0), (0, 0.0), (None, NO_RATING)]
)
def test_ratings_become_plex_s_half_stars(rating100: int | None, plex: float) -> None:
    want, _ = wanted_state({**SCENE, "rating100": rating100}, PlexSyncConfig())
    assert want["userRating"] == plex


def rating_call(
    rating100: int | None,
    plex_has: float | None,
    previous: dict[str, Any] | None = None,
    **cfg: Any,
) -> float | None:
    config = PlexSyncConfig(**cfg)
    want, _ = wanted_state({**SCENE, "rating100": rating100}, config)
    return plan_rating(want, replace(ITEM, user_rating=plex_has), previous, config)


def test_a_rating_is_one_call_and_only_when_it_changed() -> None:
    assert rating_call(87, None) == 9.0
    assert rating_call(87, 9.0) is None
    assert rating_call(87, 4.0) == 9.0


def test_a_rating_removed_in_stash_is_removed_only_if_we_wrote_it() -> None:
    assert rating_call(None, 6.0) is None  # the user's own Plex rating stays
    assert rating_call(None, 9.0, previous={"userRating": 9.0}) == NO_RATING
    assert rating_call(None, None, previous={"userRating": 9.0}) is None  # already gone


def test_ratings_off_or_kept_by_preserve_plex_edits() -> None:
    assert rating_call(87, None, sync_rating=False) is None
    assert rating_call(87, 4.0, preserve_plex_edits=True) is None
    assert rating_call(87, None, preserve_plex_edits=True) == 9.0


def test_the_library_check_sees_drift_in_every_new_field() -> None:
    config = PlexSyncConfig(content_rating="XXX", sync_added_at=True, sync_sort_title=True)
    drift = compare(SCENE, ITEM, config, previous=None)
    for name in ("director", "tagline", "contentRating", "addedAt", "titleSort", "userRating"):
        assert name in drift.fields, name
    synced = replace(
        apply_params(ITEM, plan_edit(SCENE, ITEM, config, previous=None).params), user_rating=9.0
    )
    assert compare(SCENE, synced, config, previous=None).fields == []


def test_chosen_tags_become_collections_beside_the_studio_s() -> None:
    scene = {**SCENE, "studio": "Studio S", "tags": ["Series A", "Other"]}
    want, _ = wanted_state(scene, PlexSyncConfig(tag_collections=["series a"]))
    assert want["collection"] == ["Studio S", "Series A"]
    alone, _ = wanted_state(
        scene, PlexSyncConfig(tag_collections=["series a"], sync_collection=False)
    )
    assert alone["collection"] == ["Series A"]
    plain, _ = wanted_state(scene, PlexSyncConfig())
    assert plain["collection"] == "Studio S"  # as states always held it: nothing re-sent


def test_a_tag_collection_the_scene_lost_is_removed_and_only_ours() -> None:
    item = replace(ITEM, collections=("Series A", "Users own"), complete=True)
    config = PlexSyncConfig(tag_collections=["Series A"], sync_collection=False)
    plan = plan_edit({**SCENE, "tags": []}, item, config, previous={"collection": ["Series A"]})
    assert plan.params["collection[].tag.tag-"] == "Series%20A"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("parent", ["Child", "Parent"]), ("parent_child", ["Child", "Parent / Child"])],
)
def test_the_studio_s_parent_becomes_a_second_collection(mode: str, expected: list[str]) -> None:
    scene = {**SCENE, "studio": "Child", "parent_studio": "Parent"}
    want, _ = wanted_state(scene, PlexSyncConfig(parent_studio_collection=mode))
    assert want["collection"] == expected
    plain, _ = wanted_state(scene, PlexSyncConfig())
    assert plain["collection"] == "Child" and plain["studio"] == "Child"


def test_the_parent_can_be_the_studio_field_too() -> None:
    scene = {**SCENE, "studio": "Child", "parent_studio": "Parent"}
    want, _ = wanted_state(scene, PlexSyncConfig(parent_studio_as_studio=True))
    assert want["studio"] == "Parent" and want["collection"] == "Child"
    alone, _ = wanted_state(
        {**scene, "parent_studio": ""}, PlexSyncConfig(parent_studio_as_studio=True)
    )
    assert alone["studio"] == "Child"  # no parent: the studio itself


def test_groups_become_collections_after_the_prefix() -> None:
    scene = {**SCENE, "studio": "Studio S", "groups": ["Trilogy", "Best of"]}
    want, _ = wanted_state(scene, PlexSyncConfig(group_collection_prefix="Group: "))
    assert want["collection"] == ["Studio S", "Group: Trilogy", "Group: Best of"]
    assert want["_groups"] == ["Trilogy", "Best of"]  # found again if a group vanishes
    off, _ = wanted_state(scene, PlexSyncConfig(sync_groups=False))
    assert off["collection"] == "Studio S" and off["_groups"] is None


def test_a_scene_in_no_group_and_no_studio_collection_leaves_collections_alone() -> None:
    item = replace(ITEM, collections=("Users own",), complete=True)
    config = PlexSyncConfig(sync_collection=False)
    assert not any(
        k.startswith("collection") for k in params_for(SCENE, item, **{"sync_collection": False})
    )
    plan = plan_edit({**SCENE, "groups": []}, item, config, previous={"collection": ["Gone"]})
    assert "collection[].tag.tag-" not in plan.params  # "Gone" is not on the item: nothing to do


def test_performers_tags_join_the_genres_only_when_asked() -> None:
    scene = {**SCENE, "tags": ["Kept"], "performer_tags": ["Blonde", "kept"]}
    off, _ = wanted_state(scene, PlexSyncConfig())
    assert off["genre"] == ["Kept"]
    on, _ = wanted_state(scene, PlexSyncConfig(performer_tags_as_genres=True, tag_exclude=["x"]))
    assert on["genre"] == ["Kept", "Blonde"]  # one tag to Plex once, whatever its case


def test_an_excluded_tag_takes_its_child_tags_when_asked() -> None:
    scene = {**SCENE, "tags": ["Kept", "Sub"], "tag_parents": {"Sub": ["Middle", "Secret"]}}
    config = PlexSyncConfig(tag_exclude=["secret"])
    assert wanted_state(scene, config)[0]["genre"] == ["Kept", "Sub"]
    children = config.with_changes(tag_exclude_children=True)
    assert wanted_state(scene, children)[0]["genre"] == ["Kept"]
