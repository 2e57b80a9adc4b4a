"""A file Plex does not have yet (issue 24, point 8): Plex scans just its folder, once per folder
per hour, then the scene syncs as the item appears. Never a whole-library scan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_helpers import (
    config_for,
    engine_for,
    plex_item_for,
    settle,
    simulators,
)

from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration


@pytest.fixture
def sims(fake_clock: FakeClock) -> Iterator[tuple[PlexSimulator, StashSimulator]]:
    with simulators(n=6, seed=9, clock=fake_clock) as both:
        yield both


def scan_paths(plex: PlexSimulator) -> list[str | None]:
    """The `path` of every scan Plex was asked for (None: a whole-library scan)."""
    return plex.scan_log()


def test_a_new_file_gets_one_scan_of_its_folder_and_then_syncs(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    fake_clock.advance(2)
    scene = stash.update_scene("1", files=["/data/new/clip.mp4"], title="Brand new")
    plex.add_pending("/media/new/clip.mp4", "clip")
    config = config_for(plex, stash, sync_poster=False)
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock, limit=600)
        assert scan_paths(plex) == ["/media/new"]
        item = plex_item_for(plex, scene)
        assert item is not None and item["title"] == "Brand new"


def test_a_file_still_missing_is_not_scanned_again_within_the_hour(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    fake_clock.advance(2)
    stash.update_scene("1", files=["/data/later/a.mp4"], title="Not in Plex yet")
    config = config_for(plex, stash, sync_poster=False)
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock, limit=600)  # several not-found retries
        assert scan_paths(plex) == ["/media/later"]
        fake_clock.advance(60)
        stash.update_scene("1", title="Edited, still not in Plex")
        engine.sync_now()
        settle(engine, fake_clock, limit=600)
        assert scan_paths(plex) == ["/media/later"]  # within the hour: not again
        fake_clock.advance(3600)
        stash.update_scene("1", title="An hour later")
        engine.sync_now()
        settle(engine, fake_clock, limit=600)
        assert scan_paths(plex) == ["/media/later", "/media/later"]


def test_off_means_no_scan_and_outside_every_library_means_none(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    fake_clock.advance(2)
    stash.update_scene("1", files=["/data/a/x.mp4"], title="One")
    stash.update_scene("2", files=["/elsewhere/y.mp4"], title="Two")  # unmapped: not /media
    with engine_for(tmp_path, config_for(plex, stash, scan_missing=False), fake_clock) as (
        engine,
        _store,
    ):
        settle(engine, fake_clock, limit=120)
    assert scan_paths(plex) == []
    with engine_for(tmp_path / "on", config_for(plex, stash), fake_clock) as (engine, _store):
        settle(engine, fake_clock, limit=120)
    assert scan_paths(plex) == ["/media/a"]  # /elsewhere is in no library: not asked
