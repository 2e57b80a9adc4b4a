"""Renames and merges of tags, performers and studios reach Plex (issue 13, "Renames").

In Stash a rename changes the object's `updated_at`, not its scenes'; a merge moves its scene
joins and changes no scene either. The simulator models both (plexsync_sim/stash/objects.py).
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from sync_helpers import (
    TOKEN,
    config_for,
    drive,
    engine_for,
    expected_item,
    item_view,
    plex_item_for,
    settle,
    simulators,
)

from engine.poll.scheduler import PollScheduler
from engine.stash.client import StashClient
from engine.store.jobs import JobStore
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

EDIT_ROUTE = "PUT /library/sections/{id}/all"


def carriers(stash: StashSimulator, n: int, kind: str, name: str) -> list[int]:
    """Scenes with a file whose `kind` ("tags", "performers", "studio") holds `name`."""
    found = []
    for k in range(1, n + 1):
        scene = stash.scene(k)
        assert scene is not None
        value = scene[kind]
        names = value if isinstance(value, list) else [value]
        if scene["files"] and name in names:
            found.append(k)
    return found


def most_common(stash: StashSimulator, n: int, kind: str) -> str:
    counts: Counter[str] = Counter()
    for k in range(1, n + 1):
        scene = stash.scene(k)
        assert scene is not None
        value = scene[kind]
        counts.update(value if isinstance(value, list) else [value] if value else [])
    return counts.most_common(1)[0][0]


def assert_plex_matches(plex: PlexSimulator, stash: StashSimulator, ids: list[int]) -> None:
    for k in ids:
        scene = stash.scene(k)
        assert scene is not None
        item = plex_item_for(plex, scene)
        assert item is not None
        assert item_view(item) == expected_item(scene), k


def test_renamed_tag_reaches_every_scene_that_carries_it(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with simulators(n=60) as (plex, stash):
        config = config_for(plex, stash, poll_interval=5, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            tag = most_common(stash, 60, "tags")
            scenes = carriers(stash, 60, "tags", tag)
            assert len(scenes) >= 5
            before = {k: stash.scene(k)["updated_at"] for k in scenes}  # type: ignore[index]
            plex.reset_stats()
            stash.rename_object("tag", stash.object_id("tag", tag), "Renamed Tag")
            drive(engine, fake_clock, 6)  # one poll interval
            settle(engine, fake_clock)
            # Stash did not touch the scenes; Plex shows the new name on every one of them.
            assert {k: stash.scene(k)["updated_at"] for k in scenes} == before  # type: ignore[index]
            assert_plex_matches(plex, stash, scenes)
            assert all("Renamed Tag" in stash.scene(k)["tags"] for k in scenes)  # type: ignore[index]
            assert plex.stats()["by_route"].get(EDIT_ROUTE, 0) == len(scenes)


def test_renamed_studio_and_performer_reach_plex(tmp_path: Path, fake_clock: FakeClock) -> None:
    with simulators(n=40) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            studio = most_common(stash, 40, "studio")
            performer = most_common(stash, 40, "performers")
            stash.rename_object("studio", stash.object_id("studio", studio), "Nouveau Studio")
            stash.rename_object("performer", stash.object_id("performer", performer), "Zoë New")
            drive(engine, fake_clock, 6)
            settle(engine, fake_clock)
            assert_plex_matches(plex, stash, carriers(stash, 40, "studio", "Nouveau Studio"))
            assert_plex_matches(plex, stash, carriers(stash, 40, "performers", "Zoë New"))


def test_rename_while_plex_is_down_waits_then_syncs(tmp_path: Path, fake_clock: FakeClock) -> None:
    with simulators(n=40) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False, failure_threshold=1)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)
            tag = most_common(stash, 40, "tags")
            scenes = carriers(stash, 40, "tags", tag)
            plex.stop()
            stash.rename_object("tag", stash.object_id("tag", tag), "Offline Rename")
            drive(engine, fake_clock, 20)
            # Queued, nothing lost and nothing dead-lettered while Plex is away.
            assert {j.scene_id for j in store.list_jobs(limit=1000)} == {str(k) for k in scenes}
            assert store.dlq_count() == 0
            plex.start()
            settle(engine, fake_clock)
            assert_plex_matches(plex, stash, scenes)
            assert store.counts().pending == 0


def test_tag_merge_moves_its_scenes_to_the_destination_in_plex(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with simulators(n=60) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            source = most_common(stash, 60, "tags")
            source_scenes = carriers(stash, 60, "tags", source)
            destination = "Merged Destination"
            dest_id = stash.object_id("tag", destination)
            stash.merge_objects("tag", [stash.object_id("tag", source)], dest_id)
            # Stash changed neither the scenes nor the destination's updated_at.
            assert stash.object("tag", dest_id) is not None
            drive(engine, fake_clock, 6)
            settle(engine, fake_clock)
            for k in source_scenes:
                scene = stash.scene(k)
                assert scene is not None and destination in scene["tags"]
                assert source not in scene["tags"]
            assert_plex_matches(plex, stash, source_scenes)


def test_performer_merge_and_a_deleted_studio_reach_plex(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with simulators(n=40) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            performer = most_common(stash, 40, "performers")
            performer_scenes = carriers(stash, 40, "performers", performer)
            target = stash.object_id("performer", "Merge Target")
            stash.merge_objects("performer", [stash.object_id("performer", performer)], target)
            studio = most_common(stash, 40, "studio")
            studio_scenes = carriers(stash, 40, "studio", studio)
            stash.destroy_object("studio", stash.object_id("studio", studio))
            drive(engine, fake_clock, 6)
            settle(engine, fake_clock)
            assert_plex_matches(plex, stash, performer_scenes + studio_scenes)
            assert all(stash.scene(k)["studio"] is None for k in studio_scenes)  # type: ignore[index]


def test_renames_still_reach_plex_after_a_tag_merge_and_a_tag_delete(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    """Issue 21: real Stash fails `findTags(ids:)` naming a merged or deleted tag, so the
    presence sweep must not ask by id; a later rename reaches Plex and Stash is never 'down'."""
    with simulators(n=60) as (plex, stash):
        config = config_for(plex, stash, poll_interval=5, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)
            started = fake_clock.now()
            tags = Counter(t for k in range(1, 61) for t in stash.scene(k)["tags"])  # type: ignore[index]
            merged, deleted, renamed = (name for name, _ in tags.most_common(3))
            stash.merge_objects(
                "tag", [stash.object_id("tag", merged)], stash.object_id("tag", "Merge Home")
            )
            stash.destroy_object("tag", stash.object_id("tag", deleted))
            drive(engine, fake_clock, 6)
            settle(engine, fake_clock)
            plex.reset_stats()
            stash.rename_object("tag", stash.object_id("tag", renamed), "Renamed After")
            drive(engine, fake_clock, 6)  # one poll interval
            settle(engine, fake_clock)
            scenes = carriers(stash, 60, "tags", "Renamed After")
            assert scenes
            assert_plex_matches(plex, stash, scenes)
            assert plex.stats()["by_route"].get(EDIT_ROUTE, 0) == len(scenes)
            assert store.outages(started, "stash") == []
            assert engine.status().stash_health.name == "OK"


def test_two_thousand_scene_rename_one_put_each_and_no_duplicate_jobs(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    n = 2000
    with simulators(n=n) as (plex, stash):
        shared = stash.object_id("tag", "Everywhere")
        for k in range(1, n + 1):  # one tag on every scene (edits made before the first sync)
            scene = stash.scene(k)
            assert scene is not None
            stash.update_scene(k, tags=[*scene["tags"], "Everywhere"])
        config = config_for(plex, stash, poll_interval=5, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)
            scenes = carriers(stash, n, "tags", "Everywhere")
            assert len(scenes) > 1900
            plex.reset_stats()
            stash.rename_object("tag", shared, "Everywhere, renamed")
            enqueued: list[str] = []
            original = store.enqueue

            def counting(scene_id: str, payload: dict[str, Any], **options: Any) -> bool:
                added = original(scene_id, payload, **options)
                if added:
                    enqueued.append(scene_id)
                return added

            store.enqueue = counting  # type: ignore[method-assign]
            drive(engine, fake_clock, 6)
            settle(engine, fake_clock)
            assert sorted(enqueued, key=int) == [str(k) for k in scenes]  # each queued once
            by_route = plex.stats()["by_route"]
            assert by_route.get(EDIT_ROUTE, 0) == len(scenes)  # one PUT per scene
            for k in scenes[::97]:
                item = plex_item_for(plex, stash.scene(k))  # type: ignore[arg-type]
                assert item is not None and "Everywhere, renamed" in item["genres"]


def poll_until_idle(scheduler: PollScheduler) -> None:
    stop = threading.Event()
    for _ in range(10_000):
        outcome = scheduler.poll(0, stop)
        assert outcome.error is None, outcome.error
        if not scheduler.busy:
            return
    raise AssertionError("the poll did not finish")


def test_renames_between_object_pages_are_never_missed(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    n = 300
    clock = [1_700_000_000.0]
    with (
        PlexSimulator(token=TOKEN, movies=1) as plex,
        StashSimulator(
            api_key="stash-key-0123456789", scenes=n, seed=5, now=lambda: clock[0]
        ) as stash,
    ):
        config = config_for(plex, stash)
        store = JobStore(tmp_path / "plexsync.sqlite3", clock=fake_clock)
        client = StashClient(config)
        scheduler = PollScheduler(
            store=store, clock=fake_clock, source=lambda: client, page_size=25
        )
        try:
            poll_until_idle(scheduler)  # the first full read
            for job in store.list_jobs(limit=1000):
                store.drop(job)
            performers = [o["id"] for o in _all(stash, "performer")]
            for number, object_id in enumerate(performers[:120]):
                clock[0] += 1 if number % 3 else 0  # some renames share a second
                stash.rename_object("performer", object_id, f"Renamed {number}")
            served = [0]

            def rename_between_pages(kind: str, ids: list[int]) -> None:
                # A user renames what the poller just read: it moves to the end, every later
                # row moves back by one, and offset paging would skip a row.
                if kind == "performer" and ids and served[0] < 6:
                    served[0] += 1
                    clock[0] += 1
                    stash.rename_object(kind, ids[0], f"Again {served[0]}")

            stash.add_object_page_hook(rename_between_pages)
            fake_clock.advance(60)
            scheduler.poll_soon()
            poll_until_idle(scheduler)
            fake_clock.advance(60)  # the settle pass
            scheduler.poll_soon()
            poll_until_idle(scheduler)
            missing = []
            for k in range(1, n + 1):
                scene = stash.scene(k)
                assert scene is not None
                renamed = [p for p in scene["performers"] if p.startswith(("Renamed", "Again"))]
                if not renamed or not scene["files"]:
                    continue
                job = store.get_job(str(k))
                if job is None or job.payload["performers"] != scene["performers"]:
                    missing.append(k)
            assert missing == []
            assert served[0] == 6
        finally:
            client.close()
            store.close()


def _all(stash: StashSimulator, kind: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = stash.find_objects(
        kind, None, {"filter": {"per_page": -1}}, "items"
    )["items"]
    return result
