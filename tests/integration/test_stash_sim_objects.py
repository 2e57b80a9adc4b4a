"""The Stash simulator's tags, performers and studios, over real GraphQL (requests + JSON)."""

from __future__ import annotations

import pytest
import requests
from test_stash_sim import find, gql

from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

FIND_TAGS = """
query FindTags($filter: FindFilterType, $tag_filter: TagFilterType, $ids: [ID!]) {
  findTags(filter: $filter, tag_filter: $tag_filter, ids: $ids) {
    count tags { id name aliases created_at updated_at }
  }
}
"""


def test_a_rename_changes_the_objects_updated_at_not_the_scenes(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    scene = stash_sim.scene(1)
    assert scene is not None
    tag_id = stash_sim.object_id("tag", scene["tags"][0])
    before = gql(http, stash_sim, FIND_TAGS, {"ids": [str(tag_id)]})["data"]["findTags"]["tags"]
    stash_sim.rename_object("tag", tag_id, "Brand New")
    changed = {"updated_at": {"value": before[0]["updated_at"], "modifier": "GREATER_THAN"}}
    body = gql(http, stash_sim, FIND_TAGS, {"tag_filter": changed, "filter": {"per_page": -1}})
    found = body["data"]["findTags"]["tags"]
    assert [(t["id"], t["name"]) for t in found] == [(str(tag_id), "Brand New")]
    after = stash_sim.scene(1)
    assert after is not None and after["updated_at"] == scene["updated_at"]
    assert "Brand New" in after["tags"]


def test_scenes_filter_by_tag_performer_and_studio_ids(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    scene = stash_sim.scene(2)
    assert scene is not None
    for kind, field, name in (
        ("tag", "tags", scene["tags"][0]),
        ("performer", "performers", scene["performers"][0]),
    ):
        object_id = str(stash_sim.object_id(kind, name))
        criterion = {"value": [object_id], "modifier": "INCLUDES"}
        result = find(http, stash_sim, scene_filter={field: criterion}, filter={"per_page": -1})
        assert "2" in {s["id"] for s in result["scenes"]}
        assert all(name in [t["name"] for t in s[field]] for s in result["scenes"])
        excluded = {field: {**criterion, "modifier": "EXCLUDES"}}
        others = find(http, stash_sim, scene_filter=excluded, filter={"per_page": -1})
        assert others["count"] + result["count"] == stash_sim.store.count


def test_tag_merge_keeps_scene_and_destination_times_and_adds_an_alias(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    scene = stash_sim.scene(3)
    assert scene is not None
    source = stash_sim.object_id("tag", scene["tags"][0])
    target = stash_sim.object_id("tag", "Target Tag")
    target_before = stash_sim.object("tag", target)
    stash_sim.merge_objects("tag", [source], target)
    assert stash_sim.object("tag", source) is None
    target_after = stash_sim.object("tag", target)
    assert target_after is not None and target_before is not None
    assert target_after["updated_at"] == target_before["updated_at"]
    assert scene["tags"][0] in target_after["aliases"]
    after = stash_sim.scene(3)
    assert after is not None and after["updated_at"] == scene["updated_at"]
    assert "Target Tag" in after["tags"] and scene["tags"][0] not in after["tags"]
    body = gql(http, stash_sim, FIND_TAGS, {"ids": [str(target), str(source)]})
    # Real Stash fails the whole query on an id merged away (recorded in tests/conformance)
    assert body["data"] is None
    assert body["errors"] == [{"message": f"tag with id {source} not found", "path": ["findTags"]}]


def test_object_control_routes(stash_sim: StashSimulator, http: requests.Session) -> None:
    tag_id = stash_sim.object_id("tag", "Via HTTP")
    url = f"{stash_sim.url}/__sim__/objects/tag/{tag_id}"
    assert http.post(url, json={"name": "Renamed Via HTTP"}, timeout=5).json()["name"] == (
        "Renamed Via HTTP"
    )
    other = stash_sim.object_id("tag", "Other")
    merge = f"{stash_sim.url}/__sim__/objects/tag/merge"
    answer = http.post(merge, json={"source": [tag_id], "destination": other}, timeout=5)
    assert answer.status_code == 200 and "Renamed Via HTTP" in answer.json()["aliases"]
    assert http.get(url, timeout=5).status_code == 404
    studio = stash_sim.object_id("studio", "Gone Studio")
    gone = f"{stash_sim.url}/__sim__/objects/studio/{studio}"
    assert http.delete(gone, timeout=5).status_code == 200
    assert http.post(
        f"{stash_sim.url}/__sim__/objects/studio/merge",
        json={"source": [studio], "destination": other},
        timeout=5,
    ).status_code in (400, 404)
