"""What `updatedAt` cannot prove, the engine reads in full (issue 21).

Real Plex leaves a movie's `updatedAt` alone when a collection's members are edited from the
collection's side (python-plexapi `Collection.addItems`/`removeItems`; PlexKodiConnect issues
#689 and #2095), and a database restored from a backup takes `updatedAt` back to before our
writes. Neither the pusher nor the library check may then trust the tags it remembers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from sync_helpers import API_KEY, TOKEN, config_for, drive, engine_for, plex_item_for, settle

from engine.store.checks import CheckKind, CheckSummary
from engine.sync.engine import SyncEngine
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

READ = "GET /library/metadata/{ids}"
DAY = 86400


@contextmanager
def sims(clock: FakeClock, n: int = 40) -> Iterator[tuple[PlexSimulator, StashSimulator]]:
    """Both simulators on the test's clock, so Plex's updatedAt and Date follow it."""
    with (
        PlexSimulator(token=TOKEN, movies=n, seed=3, now=clock.now) as plex,
        StashSimulator(api_key=API_KEY, scenes=n, seed=3, now=clock.now) as stash,
    ):
        yield plex, stash


def run_check(engine: SyncEngine, clock: FakeClock) -> CheckSummary:
    engine.check_now()
    for _ in range(2000):
        engine.tick(budget=5.0)
        if engine.status().check is None:
            break
        clock.advance(0.05)
    summary = engine.checker.checks.last_summary()
    assert summary is not None and engine.status().check is None
    return summary


def drifted(engine: SyncEngine) -> dict[str, tuple[str, ...]]:
    return {
        f.scene_id: f.fields
        for f in engine.checker.checks.findings()
        if f.kind is CheckKind.DRIFTED
    }


def rating_key(plex: PlexSimulator, stash: StashSimulator, scene_id: int | str) -> int:
    item = plex_item_for(plex, stash.scene(scene_id) or {})
    assert item is not None
    return int(item["ratingKey"])


def studio_carriers(stash: StashSimulator, n: int) -> tuple[str, list[int]]:
    """The most common studio among scenes with a file, and those scenes."""
    by_studio: dict[str, list[int]] = {}
    for k in range(1, n + 1):
        scene = stash.scene(k)
        if scene and scene["files"] and scene["studio"]:
            by_studio.setdefault(scene["studio"], []).append(k)
    studio = max(by_studio, key=lambda name: len(by_studio[name]))
    return studio, by_studio[studio]


def tagged_scene(stash: StashSimulator, n: int, at_least: int) -> dict[str, Any]:
    """A scene with a file and at least `at_least` tags (a listing shows only 2 genres)."""
    for k in range(1, n + 1):
        scene = stash.scene(k)
        if scene and scene["files"] and len(scene["tags"]) >= at_least:
            return scene
    raise AssertionError("no such scene")


def test_studio_rename_keeps_collections_added_from_the_collection_side(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with sims(fake_clock) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            studio, scenes = studio_carriers(stash, 40)
            assert len(scenes) >= 3
            keys = [rating_key(plex, stash, k) for k in scenes]
            fake_clock.advance(60)
            plex.collection_add("Kometa Best", keys)  # no item's updatedAt moves
            plex.reset_stats()
            stash.rename_object("studio", stash.object_id("studio", studio), "Renamed Studio")
            drive(engine, fake_clock, 6)
            settle(engine, fake_clock)
            for key in keys:
                item = plex.item(key)
                assert item is not None
                assert item["collections"] == ["Kometa Best", "Renamed Studio"], key
                assert item["studio"] == "Renamed Studio"
            # The full items are read in batches, not one request per scene.
            assert 1 <= plex.stats()["by_route"].get(READ, 0) < len(keys)


def test_check_finds_collections_edited_from_the_collection_side(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with sims(fake_clock) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            studio, scenes = studio_carriers(stash, 40)
            removed, hidden, added = scenes[:3]
            fake_clock.advance(60)
            # Ours removed: the listing shows fewer collections than Plex's cut (2), so it
            # proves the list whole and needs no read.
            plex.collection_remove(studio, rating_key(plex, stash, removed))
            # Ours removed behind two of the user's: the listing cannot tell; read it.
            plex.collection_add("First", [rating_key(plex, stash, hidden)])
            plex.collection_add("Second", [rating_key(plex, stash, hidden)])
            plex.collection_remove(studio, rating_key(plex, stash, hidden))
            # The user's own collection next to ours: theirs, and not drift.
            plex.collection_add("Kometa Best", [rating_key(plex, stash, added)])
            fake_clock.advance(5)
            summary = run_check(engine, fake_clock)
            assert drifted(engine) == {str(removed): ("collection",), str(hidden): ("collection",)}
            assert summary.full_reads == 1

            engine.check_fix(None)
            settle(engine, fake_clock)
            for k in (removed, hidden, added):
                collections = plex.item(rating_key(plex, stash, k))["collections"]  # type: ignore[index]
                assert studio in collections
            assert "Kometa Best" in plex.item(rating_key(plex, stash, added))["collections"]  # type: ignore[index]
            fake_clock.advance(5)
            run_check(engine, fake_clock)
            assert drifted(engine) == {}


def test_check_reads_an_item_restored_to_before_our_write(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with sims(fake_clock) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            scene = tagged_scene(stash, 40, at_least=2)
            key = rating_key(plex, stash, scene["id"])
            fake_clock.advance(3600)
            backup = plex.backup()  # Plex's scheduled backup
            fake_clock.advance(3600)
            stash.update_scene(scene["id"], tags=[*scene["tags"], "Added After The Backup"])
            engine.sync_now()
            settle(engine, fake_clock)
            assert "Added After The Backup" in plex.item(key)["genres"]  # type: ignore[index]
            fake_clock.advance(3600)
            plex.restore(backup)  # the tag we wrote is gone; updatedAt is older than our write
            fake_clock.advance(5)
            summary = run_check(engine, fake_clock)
            assert drifted(engine) == {scene["id"]: ("genre",)}
            assert summary.full_reads == 1


def test_push_after_a_restore_reads_the_item_instead_of_trusting_known_tags(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with sims(fake_clock) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            scene = tagged_scene(stash, 40, at_least=2)
            key = rating_key(plex, stash, scene["id"])
            fake_clock.advance(3600)
            backup = plex.backup()
            fake_clock.advance(3600)
            tags = [*scene["tags"], "Added After The Backup"]
            stash.update_scene(scene["id"], tags=tags)
            engine.sync_now()
            settle(engine, fake_clock)
            plex.restore(backup)
            fake_clock.advance(DAY)  # the daily full sweep sees the restored updatedAt
            stash.update_scene(scene["id"], title="A new title")
            engine.sync_now()
            settle(engine, fake_clock)
            item = plex.item(key)
            assert item is not None and item["title"] == "A new title"
            assert set(tags) <= set(item["genres"])  # not taken for what we wrote before
