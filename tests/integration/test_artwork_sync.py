"""Artwork against the simulators (issue 24, point 5): the background art from the screenshot
and a 2:3 poster made from it, each sent once per changed screenshot."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from sync_helpers import (
    config_for,
    engine_for,
    plex_item_for,
    settle,
    simulators,
)

from engine.push.artwork import portrait
from engine.store.activity import ActivityKind
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

ART = "POST /library/metadata/{id}/arts"
POSTER = "POST /library/metadata/{id}/posters"


@pytest.fixture
def sims(fake_clock: FakeClock) -> Iterator[tuple[PlexSimulator, StashSimulator]]:
    with simulators(n=6, seed=4, clock=fake_clock) as both:
        yield both


def uploads(plex: PlexSimulator) -> dict[str, int]:
    routes: dict[str, int] = plex.stats()["by_route"]
    plex.reset_stats()
    return {POSTER: routes.get(POSTER, 0), ART: routes.get(ART, 0)}


def with_file(stash: StashSimulator) -> dict[str, Any]:
    return next(s for n in range(1, 7) if (s := stash.scene(n)) and s["files"])


def test_art_and_a_portrait_poster_are_sent_once_per_changed_screenshot(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = with_file(stash)
    shot = stash._screenshot(scene["id"])[0]
    config = config_for(plex, stash, sync_art=True, poster_shape="portrait")
    with engine_for(tmp_path, config, fake_clock) as (engine, store):
        settle(engine, fake_clock)
        item = plex_item_for(plex, scene)
        assert item is not None
        assert item["poster_sha256"] == hashlib.sha256(portrait(shot)).hexdigest()
        assert item["art_sha256"] == hashlib.sha256(shot).hexdigest()
        first = uploads(plex)
        assert first[POSTER] == first[ART] >= 1

        fake_clock.advance(5)
        stash.update_scene(scene["id"], details="A new summary, the same screenshot")
        engine.sync_now()
        settle(engine, fake_clock)
        assert uploads(plex) == {POSTER: 0, ART: 0}

        fake_clock.advance(5)
        stash.set_cover(scene["id"])
        stash.update_scene(scene["id"], details="A new screenshot too")
        engine.sync_now()
        settle(engine, fake_clock)
        assert uploads(plex) == {POSTER: 1, ART: 1}
        summaries = [a.summary for a in store.activity_page() if a.kind is ActivityKind.SYNCED]
        assert "poster" in summaries[0] and "background art" in summaries[0]


def test_a_new_poster_shape_sends_the_poster_again_but_not_the_art(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    scene = with_file(stash)
    shot = stash._screenshot(scene["id"])[0]
    config = config_for(plex, stash, sync_art=True)
    with engine_for(tmp_path, config, fake_clock) as (engine, _store):
        settle(engine, fake_clock)
        uploads(plex)
        engine.apply_config(config.with_changes(poster_shape="portrait"))
        fake_clock.advance(5)
        stash.update_scene(scene["id"], details="Edited after the change of shape")
        engine.sync_now()
        settle(engine, fake_clock)
        assert uploads(plex) == {POSTER: 1, ART: 0}
        item = plex_item_for(plex, scene)
        assert item is not None
        assert item["poster_sha256"] == hashlib.sha256(portrait(shot)).hexdigest()


def test_art_off_by_default_sends_no_art(
    tmp_path: Path, fake_clock: FakeClock, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    with engine_for(tmp_path, config_for(plex, stash), fake_clock) as (engine, _store):
        settle(engine, fake_clock)
    assert uploads(plex)[ART] == 0
