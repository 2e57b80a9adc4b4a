"""Gates against the simulators (issue 24, point 7): only organized scenes, only identified
ones; a scene that leaves a gate keeps what we wrote, and Recent activity says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from sync_helpers import (
    config_for,
    engine_for,
    plex_item_for,
    run_check,
    settle,
    simulators,
)

from engine.store.activity import ActivityKind
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration


@pytest.fixture
def sims(fake_clock: FakeClock) -> Iterator[tuple[PlexSimulator, StashSimulator]]:
    with simulators(n=10, seed=7, clock=fake_clock) as both:
        yield both


def filed(stash: StashSimulator) -> list[dict[str, Any]]:
    scenes = [stash.scene(n) for n in range(1, 11)]
    return [s for s in scenes if s is not None and s["files"]]


def test_only_organized_scenes_reach_plex_and_one_that_leaves_keeps_its_values(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scenes = filed(stash)
    fake_clock.advance(2)
    kept, held = scenes[0], scenes[1]
    stash.update_scene(kept["id"], organized=True, title="Organized one")
    stash.update_scene(held["id"], organized=False, title="Not organized")
    config = config_for(plex, stash, sync_poster=False, sync_only_organized=True)
    with engine_for(tmp_path, config, fake_clock) as (engine, store):
        settle(engine, fake_clock)
        written = plex_item_for(plex, stash.scene(kept["id"]) or {})
        untouched = plex_item_for(plex, stash.scene(held["id"]) or {})
        assert written is not None and written["title"] == "Organized one"
        assert untouched is not None and untouched["title"] != "Not organized"

        fake_clock.advance(5)
        stash.update_scene(kept["id"], organized=False, title="Renamed after")
        engine.sync_now()
        settle(engine, fake_clock)
        after = plex_item_for(plex, stash.scene(kept["id"]) or {})
        assert after is not None and after["title"] == "Organized one"  # not wiped, not changed
        held_rows = [a for a in store.activity_page() if a.kind is ActivityKind.HELD]
        assert [(a.scene_id, a.summary) for a in held_rows] == [
            (
                str(kept["id"]),
                "No longer synced: it is not marked organized in Stash"
                " (what was written stays in Plex)",
            )
        ]
        fake_clock.advance(5)
        stash.update_scene(kept["id"], title="Renamed again")  # still held: told once
        engine.sync_now()
        settle(engine, fake_clock)
        assert len([a for a in store.activity_page() if a.kind is ActivityKind.HELD]) == 1

        fake_clock.advance(5)
        stash.update_scene(kept["id"], organized=True)  # through the gate again: synced
        engine.sync_now()
        settle(engine, fake_clock)
        back = plex_item_for(plex, stash.scene(kept["id"]) or {})
        assert back is not None and back["title"] == "Renamed again"


def test_only_identified_scenes_are_synced_and_the_check_leaves_the_rest_alone(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scenes = filed(stash)
    fake_clock.advance(2)
    for scene in scenes:
        stash.update_scene(scene["id"], urls=[], stash_ids=[], title=f"Bare {scene['id']}")
    identified = scenes[0]
    stash.update_scene(
        identified["id"], stash_ids=[("https://stashdb.org/graphql", "abc")], title="Known"
    )
    config = config_for(plex, stash, sync_poster=False, sync_only_identified=True)
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock)
        titles = {item["title"] for item in plex.items()}
        assert "Known" in titles and not any(t.startswith("Bare ") for t in titles)
        run_check(engine, fake_clock)
        assert engine.checker.checks.findings() == []  # gated scenes are not "never synced"
