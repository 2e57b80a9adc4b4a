"""Real GraphQL calls (requests + JSON) against the Stash simulator."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta, timezone
from typing import Any

import pytest
import requests
from graphql import get_introspection_query

from plexsync_sim.catalog import base_timestamp, rel_path, scene_meta
from plexsync_sim.stash.objects import natural_key
from plexsync_sim.stash.scenes import format_time
from plexsync_sim.stash.schema import check_subset
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

FIND_SCENES = """
query FindScenes($filter: FindFilterType, $scene_filter: SceneFilterType, $scene_ids: [Int!]) {
  findScenes(filter: $filter, scene_filter: $scene_filter, scene_ids: $scene_ids) {
    count
    scenes {
      id title details date code urls updated_at created_at
      studio { name } performers { name } tags { name }
      files { path basename size } paths { screenshot }
    }
  }
}
"""


def gql(
    http: requests.Session,
    sim: StashSimulator,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None = "key",
    status: int = 200,
) -> Any:
    headers = {"ApiKey": key} if key else {}
    answer = http.post(
        f"{sim.url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers,
        timeout=(5, 30),
    )
    assert answer.status_code == status, answer.text
    if answer.headers.get("Content-Type") != "application/json":
        return answer.text
    return answer.json()


def find(http: requests.Session, sim: StashSimulator, **variables: Any) -> dict[str, Any]:
    body = gql(http, sim, FIND_SCENES, variables)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["findScenes"]
    return result


def since(value: str) -> dict[str, Any]:
    return {"updated_at": {"value": value, "modifier": "GREATER_THAN"}}


def test_scene_metadata_matches_the_shared_catalogue(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    found = find(http, stash_sim, filter={"per_page": -1})
    assert found["count"] == 50 and len(found["scenes"]) == 50
    for scene in found["scenes"]:
        meta = scene_meta(1, int(scene["id"]))
        assert scene["title"] == meta.title and scene["details"] == (meta.details or "")
        assert (scene["studio"] or {}).get("name") == meta.studio
        assert [p["name"] for p in scene["performers"]] == list(meta.performers)
        # Stash lists a scene's tags by name (tagTableSort), whatever order they were added in
        assert [t["name"] for t in scene["tags"]] == sorted(meta.tags, key=natural_key)
        expected_files = [f"/data/{rel_path(1, meta.index)}"] if meta.has_file else []
        assert [f["path"] for f in scene["files"]] == expected_files
        assert scene["updated_at"] == format_time(base_timestamp(meta.index), None)
        assert scene["paths"]["screenshot"].endswith(
            f"/scene/{meta.index}/screenshot?t={base_timestamp(meta.index)}"
        )


def test_catalogue_has_realistic_variety() -> None:
    metas = [scene_meta(1, k) for k in range(1, 1001)]
    assert 0.8 < sum(m.studio is not None for m in metas) / 1000 < 0.97
    assert 0.003 < sum(not m.has_file for m in metas) / 1000 < 0.05
    assert all(1 <= len(m.performers) <= 4 and 2 <= len(m.tags) <= 6 for m in metas)
    assert any("\n\n" in (m.details or "") for m in metas)
    assert any(not m.title.isascii() for m in metas)
    assert len({m.rel_path.rsplit("/", 1)[1] for m in metas}) == 1000  # unique basenames


def test_updated_at_filter_paging_and_sort(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    stash_sim.update_scene(3, title="Edited Three")
    watermark = format_time(base_timestamp(40), None)
    pages = []
    for number in (1, 2, 3):
        page = find(
            http,
            stash_sim,
            filter={"page": number, "per_page": 5, "sort": "updated_at", "direction": "ASC"},
            scene_filter=since(watermark),
        )
        assert page["count"] == 11  # scenes 41..50 and the edited scene 3
        pages.append([s["id"] for s in page["scenes"]])
    assert pages == [["41", "42", "43", "44", "45"], ["46", "47", "48", "49", "50"], ["3"]]
    newest_first = find(
        http, stash_sim, filter={"per_page": 2, "sort": "updated_at", "direction": "DESC"}
    )
    assert [s["id"] for s in newest_first["scenes"]] == ["3", "50"]


def test_timestamps_compare_as_text_like_stash(
    make_stash_sim: Callable[..., StashSimulator], http: requests.Session
) -> None:
    sim = make_stash_sim(tz=timezone(timedelta(hours=10)))
    first = find(http, sim, filter={"per_page": 1})["scenes"][0]
    assert first["updated_at"] == "2020-09-13T22:27:40+10:00"
    # As instants every scene is older than 20:00Z, but "...T22:..+10:00" > "...T20:..Z" as text.
    assert find(http, sim, scene_filter=since("2020-09-13T20:00:00Z"))["count"] == 50
    assert find(http, sim, scene_filter=since("2020-09-13T23:00:00+10:00"))["count"] == 50 - 33


def test_edits_in_one_second_share_a_timestamp_and_sort_by_title(
    make_stash_sim: Callable[..., StashSimulator], http: requests.Session
) -> None:
    # Like Stash: updated_at = time.Now() in seconds; ties end in COALESCE(title, id) NATURAL_CI.
    sim = make_stash_sim(now=lambda: 1_900_000_000.0)
    first = sim.update_scene(7, tags=["Only"], title="b 10")
    second = sim.update_scene(8, performers=["Nobody New"], studio=None, title="B 9")
    third = sim.update_scene(9, details="Changed", title=None)
    assert first["updated_at"] == second["updated_at"] == third["updated_at"]
    changed = find(
        http, sim, filter={"sort": "updated_at"}, scene_filter=since("2030-01-01T00:00:00Z")
    )
    assert [s["id"] for s in changed["scenes"]] == ["9", "8", "7"]  # "9" < "B 9" < "b 10"
    assert changed["scenes"][1]["studio"] is None


def test_page_edits_move_served_scenes_to_the_end(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    body = {"count": 1, "times": 1}
    assert http.post(f"{stash_sim.url}/__sim__/page_edits", json=body).status_code == 200
    by_offset = {"per_page": 5, "sort": "updated_at", "direction": "ASC"}
    first = find(http, stash_sim, filter={**by_offset, "page": 1})
    second = find(http, stash_sim, filter={**by_offset, "page": 2})
    assert [s["id"] for s in first["scenes"]] == ["1", "2", "3", "4", "5"]
    # Scene 1 was edited after page 1: every later row moved back by one, so 6 is skipped.
    assert [s["id"] for s in second["scenes"]] == ["7", "8", "9", "10", "11"]
    assert stash_sim.scene(1)["title"].endswith("(between pages)")
    assert http.delete(f"{stash_sim.url}/__sim__/page_edits").status_code == 200


def test_find_scene_version_and_scene_ids(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    body = gql(http, stash_sim, '{ findScene(id: "4") { id title files { path } } }')
    assert body["data"]["findScene"]["title"] == scene_meta(1, 4).title
    assert gql(http, stash_sim, '{ findScene(id: "999") { id } }')["data"]["findScene"] is None
    version = gql(http, stash_sim, "{ version { version hash build_time } }")["data"]["version"]
    assert version["version"].startswith("v0.")
    picked = find(http, stash_sim, scene_ids=[9, 2], filter={"per_page": 1})
    assert [s["id"] for s in picked["scenes"]] == ["9", "2"]  # as asked; no paging
    by_ids = "query ($ids: [ID!]) { findScenes(ids: $ids) { scenes { id } } }"
    missing = gql(http, stash_sim, by_ids, {"ids": ["9", "999"]})
    assert missing == {
        "errors": [{"message": "scene with id 999 not found", "path": ["findScenes"]}],
        "data": None,
    }


def test_invalid_queries_answer_422(stash_sim: StashSimulator, http: requests.Session) -> None:
    bad_enum_literal = "{ findScenes(filter: {direction: UP}) { count } }"
    assert "errors" in gql(http, stash_sim, bad_enum_literal, status=422)
    bad_variable = gql(http, stash_sim, FIND_SCENES, {"filter": {"direction": "UP"}}, status=422)
    assert "SortDirectionEnum" in bad_variable["errors"][0]["message"]
    assert gql(http, stash_sim, "{ findScenes { nope } }", status=422)["errors"]
    assert gql(http, stash_sim, "{ findScenes ", status=422)["errors"]
    modifier = {"updated_at": {"value": "x", "modifier": "SOMETIMES"}}
    gql(http, stash_sim, FIND_SCENES, {"scene_filter": modifier}, status=422)


def test_api_key_header_or_query_parameter(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    query = {"query": "{ version { version } }"}
    missing = http.post(f"{stash_sim.url}/graphql", json=query)
    assert missing.status_code == 401 and missing.content == b""
    assert "Content-Type" not in missing.headers
    gql(http, stash_sim, "{ version { version } }", key="wrong", status=401)
    by_param = http.post(f"{stash_sim.url}/graphql?apikey=key", json=query)
    assert by_param.status_code == 200


def test_screenshot_bytes_change_with_the_cover_not_with_an_edit(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    def shot(scene_id: int) -> bytes:
        url = find(http, stash_sim, scene_ids=[scene_id])["scenes"][0]["paths"]["screenshot"]
        answer = http.get(url, headers={"ApiKey": "key"})
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/jpeg"
        assert answer.content.startswith(b"\xff\xd8\xff")
        return answer.content

    before, other = shot(5), shot(6)
    assert before != other
    stash_sim.update_scene(5, title="New Title")
    assert shot(5) == before  # Stash keeps the stored cover; only the URL's ?t= changes
    stash_sim.churn(50, cover=True)
    after = shot(5)
    assert after != before and after == stash_sim.screenshot(5)
    wrong = http.get(f"{stash_sim.url}/scene/5/screenshot", headers={"ApiKey": "nope"})
    assert wrong.status_code == 401
    unsigned = http.get(f"{stash_sim.url}/scene/5/screenshot?t=1", allow_redirects=False)
    assert unsigned.status_code == 302  # to the login page, as Stash sends a browser
    assert unsigned.headers["Location"] == "/login?returnURL=%2Fscene%2F5%2Fscreenshot%3Ft%3D1"


def test_churn_and_control_routes(stash_sim: StashSimulator, http: requests.Session) -> None:
    newest = format_time(base_timestamp(50), None)
    changed = stash_sim.churn(3)
    assert len(set(changed)) == 3
    over_http = http.post(f"{stash_sim.url}/__sim__/churn", json={"count": 2}).json()["changed"]
    updated = http.post(
        f"{stash_sim.url}/__sim__/scenes/12",
        json={"title": "Über", "performers": ["A B"], "tags": ["x"], "files": ["/data/n.mp4"]},
    ).json()
    assert updated["title"] == "Über" and updated["files"] == ["/data/n.mp4"]
    found = find(
        http, stash_sim, filter={"per_page": -1, "sort": "updated_at"}, scene_filter=since(newest)
    )
    assert {s["id"] for s in found["scenes"]} == {*changed, *over_http, "12"}
    bad = http.post(f"{stash_sim.url}/__sim__/scenes/12", json={"rating": 5})
    assert bad.status_code == 400
    assert http.post(f"{stash_sim.url}/__sim__/scenes/999", json={"title": "x"}).status_code == 404


def test_requests_log_records_operations(stash_sim: StashSimulator, http: requests.Session) -> None:
    variables = {"filter": {"per_page": 2}}
    find(http, stash_sim, **variables)
    logged = http.get(f"{stash_sim.url}/__sim__/requests").json()
    assert logged == stash_sim.requests()
    assert logged[-1]["query"] == FIND_SCENES and logged[-1]["variables"] == variables
    assert stash_sim.stats() == {
        "requests": 1,
        "by_method": {"POST": 1},
        "by_route": {"POST /graphql": 1},
        "connections": 1,
    }


def test_faults_and_graphql_errors(stash_sim: StashSimulator, http: requests.Session) -> None:
    stash_sim.add_fault(match=r"^POST /graphql$", status=502, count=1)
    gql(http, stash_sim, "{ version { version } }", status=502)
    stash_sim.add_graphql_error(match="findScenes", message="database is locked", count=1)
    locked = gql(http, stash_sim, FIND_SCENES)
    assert locked["errors"][0]["message"] == "database is locked" and locked["data"] is None
    assert find(http, stash_sim)["count"] == 50
    stash_sim.add_fault(match="graphql", drop=True)
    with pytest.raises(requests.ConnectionError):
        http.post(f"{stash_sim.url}/graphql", json={"query": "{ version { version } }"})
    stash_sim.clear_faults()
    gql(http, stash_sim, "{ version { version } }")


def test_hundred_thousand_scenes_poll_cheaply(
    make_stash_sim: Callable[..., StashSimulator], http: requests.Session
) -> None:
    sim = make_stash_sim(scenes=100_000, seed=2)
    sim.update_scene(17, title="Old scene, new title")
    started = time.monotonic()
    recent = find(
        http,
        sim,
        filter={"per_page": 100, "sort": "updated_at"},
        scene_filter=since(format_time(base_timestamp(99_990), None)),
    )
    assert recent["count"] == 11
    assert [s["id"] for s in recent["scenes"]] == [*map(str, range(99_991, 100_001)), "17"]
    last_page = find(http, sim, filter={"page": 1000, "per_page": 100})
    assert last_page["count"] == 100_000 and last_page["scenes"][-1]["id"] == "100000"
    assert time.monotonic() - started < 5


def test_our_schema_is_checked_as_a_subset(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    introspection = gql(http, stash_sim, get_introspection_query())["data"]
    assert check_subset(introspection) == []
    scene = next(t for t in introspection["__schema"]["types"] if t["name"] == "Scene")
    scene["fields"] = [f for f in scene["fields"] if f["name"] != "updated_at"]
    assert check_subset(introspection) == ["Scene.updated_at does not exist"]


def test_screenshot_hash_is_stable_for_the_same_state(
    make_stash_sim: Callable[..., StashSimulator],
) -> None:
    one, two = make_stash_sim(), make_stash_sim()
    assert hashlib.sha256(one.screenshot(9)).digest() == hashlib.sha256(two.screenshot(9)).digest()


def test_cover_less_scene_screenshot_is_the_placeholder_svg_with_200(
    stash_sim: StashSimulator, http: requests.Session
) -> None:
    """Real Stash serves its default scene.svg for a scene without a cover (status 200)."""
    stash_sim.clear_cover(7)
    answer = http.get(f"{stash_sim.url}/scene/7/screenshot?t=1", headers={"ApiKey": "key"})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/svg+xml"
    assert answer.content.startswith(b"<svg")
    stash_sim.set_cover(7)
    again = http.get(f"{stash_sim.url}/scene/7/screenshot", headers={"ApiKey": "key"})
    assert again.content.startswith(b"\xff\xd8\xff")
