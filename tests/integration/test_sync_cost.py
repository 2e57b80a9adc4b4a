"""What a sync costs in Plex requests: it grows with what changed, not with the library."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from sync_helpers import API_KEY, TOKEN, config_for, drive, engine_for, plex_item_for, settle

from engine.config.file import PlexSyncConfig
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

LISTING = "GET /library/sections/{id}/all"
READ = "GET /library/metadata/{ids}"
PUT = "PUT /library/sections/{id}/all"
POSTER = "POST /library/metadata/{id}/posters"
RATE = "PUT /:/rate"  # a rating is Plex's own call, apart from the edit (issue 24)


class SimTime:
    """A simulator's own clock, moved by hand (Date headers, updatedAt)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@contextmanager
def big_plex(movies: int, scenes: int) -> Iterator[tuple[PlexSimulator, StashSimulator, SimTime]]:
    plex_time = SimTime()
    # Stash's clock stands still: every edit of a test lands in the same second, as quick
    # edits do in real Stash, whose screenshot URLs carry whole seconds.
    stash_time = SimTime()
    with (
        PlexSimulator(token=TOKEN, movies=movies, seed=3, now=plex_time) as plex,
        StashSimulator(api_key=API_KEY, scenes=scenes, seed=3, now=stash_time) as stash,
    ):
        yield plex, stash, plex_time


def run_once(tmp_path: Path, config: PlexSyncConfig, clock: FakeClock) -> None:
    """One `plexsync run --once`: a new engine on the same database, no idle probes."""
    with engine_for(tmp_path, config, clock, idle_probes=False) as (engine, _store):
        settle(engine, clock)


def filed_scene(stash: StashSimulator, start: int) -> dict[str, Any]:
    """The first scene from `start` on that has a file (some catalogue scenes have none)."""
    for scene_id in range(start, start + 20):
        scene = stash.scene(scene_id)
        if scene is not None and scene["files"]:
            return scene
    raise AssertionError("no scene with a file")


def routes(plex: PlexSimulator) -> dict[str, Any]:
    stats = plex.stats()
    plex.reset_stats()
    return {"total": stats["requests"], **stats["by_route"]}


def test_a_run_after_one_change_reads_only_what_changed_in_plex(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with big_plex(movies=2500, scenes=20) as (plex, stash, plex_time):
        config = config_for(plex, stash)
        run_once(tmp_path, config, fake_clock)
        first = routes(plex)
        assert first[LISTING] == 3  # the first run sweeps all 2,500 movies: three pages

        plex_time.now += 5
        scene = filed_scene(stash, 4)
        stash.update_scene(scene["id"], title="Changed once", tags=[*scene["tags"], "A new tag"])
        run_once(tmp_path, config, fake_clock)
        cost = routes(plex)
        # GET / (plexapi's connection), one listing of what changed since, one PUT: no
        # section list (known for an hour), no full read (our last write's tags are still
        # true), no poster (the cover did not change).
        assert cost == {"total": 3, "GET /": 1, LISTING: 1, PUT: 1}
        item = plex_item_for(plex, stash.scene(scene["id"]) or {})
        assert item is not None and item["title"] == "Changed once"
        assert "A new tag" in item["genres"]


def test_a_users_later_edit_in_plex_is_read_before_tags_are_added(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with big_plex(movies=30, scenes=30) as (plex, stash, plex_time):
        config = config_for(plex, stash, sync_poster=False)
        run_once(tmp_path, config, fake_clock)
        scene = filed_scene(stash, 2)
        item = plex_item_for(plex, scene)
        assert item is not None
        plex_time.now += 5  # after our write, a person adds a genre in Plex
        plex.set_tags(int(item["ratingKey"]), "genre", [*item["genres"], "Mine"])
        plex_time.now += 5
        routes(plex)
        stash.update_scene(scene["id"], tags=[*scene["tags"], "Ours too"])
        run_once(tmp_path, config, fake_clock)
        assert routes(plex)[READ] == 1  # Plex's updatedAt passed our write: read it all
        after = plex_item_for(plex, stash.scene(scene["id"]) or {})
        assert after is not None and {"Mine", "Ours too"} <= set(after["genres"])


def test_a_metadata_edit_costs_one_request_with_posters_and_none_after_restart(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with big_plex(movies=30, scenes=30) as (plex, stash, plex_time):
        config = config_for(plex, stash, sync_poster=True)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            uploads = routes(plex)[POSTER]
            assert uploads >= 25
            plex_time.now += 5
            stash.update_scene(filed_scene(stash, 7)["id"], title="Only the title")
            drive(engine, fake_clock, 12)
            cost = routes(plex)
            assert cost[PUT] == 1 and cost.get(POSTER, 0) == 0 and cost.get(READ, 0) == 0
        # A restart: every scene's poster hash is in the database, nothing is uploaded again.
        changed = [k for k in stash.churn(10) if (stash.scene(k) or {}).get("files")]
        run_once(tmp_path, config, fake_clock)
        cost = routes(plex)
        assert cost[PUT] == len(changed) and cost.get(POSTER, 0) == 0
        # New covers, one of them on a scene edited above in the same second of Stash's
        # clock: its screenshot URL (`?t=<updated_at>`) is the one we already pushed.
        covered = [k for k in stash.churn(3, cover=True) if (stash.scene(k) or {}).get("files")]
        assert set(covered) & set(changed)
        run_once(tmp_path, config, fake_clock)  # these covers, and only these, go up
        cost = routes(plex)
        assert cost[POSTER] == cost[PUT] == len(covered)


def test_a_new_section_or_mapping_sweeps_everything_again(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with big_plex(movies=1500, scenes=5) as (plex, stash, _plex_time):
        config = config_for(plex, stash)
        run_once(tmp_path, config, fake_clock)
        routes(plex)
        mapped = config_for(
            plex,
            stash,
            path_mappings=[
                {"stash_prefix": "/data", "plex_prefix": "/media"},
                {"stash_prefix": "/x", "plex_prefix": "/y"},
            ],
        )
        scene_id = filed_scene(stash, 1)["id"]
        stash.update_scene(scene_id, title="One")  # a job: with none, Plex is not contacted
        run_once(tmp_path, mapped, fake_clock)
        assert routes(plex)[LISTING] == 2  # a changed mapping: two full pages again
        fake_clock.advance(86_400 + 1)  # a day later: a full sweep sees what Plex removed
        stash.update_scene(scene_id, title="Two")
        run_once(tmp_path, mapped, fake_clock)
        assert routes(plex)[LISTING] == 2


def test_a_first_sync_reads_full_items_a_batch_at_a_time(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with big_plex(movies=120, scenes=120) as (plex, stash, _plex_time):
        run_once(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock)
        cost = routes(plex)
        synced = cost[PUT]
        assert synced >= 100
        assert cost[READ] <= 8  # one read per batch of 50 (plus a few single ones)
        rated = cost.get(RATE, 0)
        assert rated <= synced  # at most one rate call per scene, and only for rated ones
        assert cost["total"] - rated <= 1.05 * synced + 5
