"""Two Stash scenes on one file: dead-lettered with both ids, unless Stash no longer has both
(issue 12 point 8). The other scene is looked up in Stash before anything is flagged."""

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

from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration


def two_with_files(stash: StashSimulator) -> tuple[int, int, str]:
    """Two scenes with files; returns their ids and the first one's file."""
    ids = [k for k in range(1, 21) if (stash.scene(k) or {}).get("files")]
    first = stash.scene(ids[0])
    assert first is not None
    return ids[0], ids[1], first["files"][0]


def assert_synced(plex: PlexSimulator, stash: StashSimulator, scene_id: int) -> None:
    scene = stash.scene(scene_id)
    assert scene is not None
    item = plex_item_for(plex, scene)
    assert item is not None and item_view(item) == expected_item(scene)


def test_two_scenes_on_one_file_are_said_so_then_cleared_when_one_goes(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with simulators(n=20) as (plex, stash):
        config = config_for(plex, stash, poll_interval=5, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)
            first, second, path = two_with_files(stash)
            plex.reset_stats()
            stash.update_scene(second, files=[path], title="Second on the same file")
            drive(engine, fake_clock, 6)
            settle(engine, fake_clock)
            entries = store.dlq_list()
            assert [e.scene_id for e in entries] == [str(second)]
            assert str(first) in entries[0].message and str(second) in entries[0].message
            assert plex.stats()["by_route"].get("PUT /library/sections/{id}/all", 0) == 0
            assert_synced(plex, stash, first)  # the first scene's sync stands, not "last wins"
            # The user merges the first scene away in Stash: the conflict is gone.
            stash.delete_scene(first)
            drive(engine, fake_clock, 6)
            settle(engine, fake_clock)
            assert store.dlq_count() == 0
            assert_synced(plex, stash, second)


def test_a_file_whose_other_scene_was_deleted_is_not_flagged(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with simulators(n=20) as (plex, stash):
        config = config_for(plex, stash, poll_interval=5, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)
            first, second, path = two_with_files(stash)
            stash.delete_scene(first)  # or merged into `second`: Stash moves the file
            stash.update_scene(second, files=[path], title="Took over the file")
            drive(engine, fake_clock, 6)
            settle(engine, fake_clock)
            assert store.dlq_count() == 0
            assert_synced(plex, stash, second)


def test_a_scene_moved_to_another_file_frees_its_item(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with simulators(n=20) as (plex, stash):
        config = config_for(plex, stash, poll_interval=5, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)
            first, second, path = two_with_files(stash)
            other = stash.scene(second)
            assert other is not None
            # The two swap files in one go: neither is on the other's file any more.
            stash.update_scene(first, files=other["files"])
            stash.update_scene(second, files=[path])
            drive(engine, fake_clock, 6)
            settle(engine, fake_clock)
            assert store.dlq_count() == 0
            assert_synced(plex, stash, first)
            assert_synced(plex, stash, second)


@pytest.mark.parametrize("in_flight", [1, 4])
def test_two_scenes_on_one_file_in_the_first_sync_write_once(
    tmp_path: Path, fake_clock: FakeClock, in_flight: int
) -> None:
    """Neither scene has claimed the item yet, and both are claimed in one batch: the claim
    recorded when the first settles is what the second meets (never two writes)."""
    with simulators(n=20) as (plex, stash):
        first, second, path = two_with_files(stash)
        stash.update_scene(second, files=[path], title="Second on the same file")
        config = config_for(plex, stash, sync_poster=False, max_in_flight=in_flight)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)
            entries = store.dlq_list()
            assert len(entries) == 1 and {str(first), str(second)} <= set(
                entries[0].message.split(" ")
            )
            scene = stash.scene(first)
            assert scene is not None
            item = plex_item_for(plex, scene)
            assert item is not None
            written = [s for s in (first, second) if s != int(entries[0].scene_id)]
            assert_synced(plex, stash, written[0])
