"""A file name alone never picks the Plex item to overwrite (issue 22.1).

A Stash scene whose file Plex lacks at the mapped path used to take any one Plex item of the
same file name, in any folder. Now a same-name item in a folder nothing vouches for is a
possible match: dead-lettered with its candidate, reported by the library check, never written
(not even by Fix) until the user confirms it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from sync_helpers import API_KEY, TOKEN, config_for, engine_for, plex_item_for, settle
from test_library_check import findings, run_check, writes

from engine.store.checks import CheckKind
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

FAMILY = "/home/family/videos/clip.mp4"


def _sims(clock: FakeClock, n: int = 6) -> tuple[PlexSimulator, StashSimulator]:
    return (
        PlexSimulator(token=TOKEN, movies=n, seed=3, now=clock.now),
        StashSimulator(api_key=API_KEY, scenes=n, seed=3, now=clock.now),
    )


def _scene_with_files(stash: StashSimulator, n: int = 6) -> int:
    return next(k for k in range(1, n + 1) if (stash.scene(k) or {}).get("files"))


def _untouched(item: dict[str, Any] | None) -> bool:
    return item is not None and item["title"] == "Grandma's 90th birthday" and not item["locked"]


def test_a_same_name_item_in_an_unrelated_folder_is_never_written(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    plex, stash = _sims(fake_clock)
    with plex, stash:
        scene_id = _scene_with_files(stash)
        stash.update_scene(scene_id, files=["/srv/downloads/clip.mp4"], title="A Stash clip")
        family = plex.add_movie(file=FAMILY, title="Grandma's 90th birthday")
        config = config_for(plex, stash, sync_poster=False)  # maps /data to /media only
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)
            assert _untouched(plex.item(family))
            entries = [e for e in store.dlq_list() if e.scene_id == str(scene_id)]
            assert [e.error_class for e in entries] == ["possible_match"]
            assert FAMILY in entries[0].message and str(family) in entries[0].message
            assert [(c.rating_key, c.plex_path) for c in store.possible_for(str(scene_id))] == [
                (str(family), FAMILY)
            ]

            run_check(engine, fake_clock)
            found = [f for f in findings(engine) if f.scene_id == str(scene_id)]
            assert [(f.kind, f.rating_key) for f in found] == [
                (CheckKind.POSSIBLE_MATCH, str(family))
            ]
            assert FAMILY in found[0].detail

            before = writes(plex)
            engine.check_fix(None)
            settle(engine, fake_clock)
            assert _untouched(plex.item(family)) and writes(plex) == before
            assert [e.error_class for e in store.dlq_list() if e.scene_id == str(scene_id)] == [
                "possible_match"
            ]


def test_a_confirmed_possible_match_is_written_and_its_folder_neighbours_follow(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    plex, stash = _sims(fake_clock)
    with plex, stash:
        first, second = [k for k in range(1, 7) if (stash.scene(k) or {}).get("files")][:2]
        stash.update_scene(first, files=["/srv/stash/clips/a.mp4"], title="Clip A")
        stash.update_scene(second, files=["/srv/stash/clips/b.mp4"], title="Clip B")
        a = plex.add_movie(file="/mnt/plex/clips/a.mp4", title="a")
        b = plex.add_movie(file="/mnt/plex/clips/b.mp4", title="b")
        with engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ):
            settle(engine, fake_clock)
            entry = next(e for e in store.dlq_list() if e.scene_id == str(first))
            assert [plex.item(k)["title"] for k in (a, b)] == ["a", "b"]  # type: ignore[index]
            assert store.dlq_confirm(entry.id, "999") == 0  # not one of its candidates
            assert store.dlq_confirm(entry.id) == 2  # the neighbour's folders are the same pair
            settle(engine, fake_clock)
            assert [plex.item(k)["title"] for k in (a, b)] == ["Clip A", "Clip B"]  # type: ignore[index]
            assert store.dlq_count() == 0


def test_same_name_files_under_a_mapped_prefix_or_the_mapped_folder_still_match(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    plex, stash = _sims(fake_clock)
    with plex, stash:
        moved, renamed = [k for k in range(1, 7) if (stash.scene(k) or {}).get("files")][:2]
        # Moved in Stash, not yet rescanned by Plex: the old item is under the mapped /media.
        old = plex_item_for(plex, stash.scene(moved) or {})
        assert old is not None
        name = old["files"][0].rsplit("/", 1)[1]
        stash.update_scene(moved, files=[f"/data/elsewhere/{name}"], title="Moved")
        # Only the name's case differs, in the very folder the mapping names.
        item = plex_item_for(plex, stash.scene(renamed) or {})
        assert item is not None
        stash_file = str((stash.scene(renamed) or {})["files"][0])
        folder, base = stash_file.rsplit("/", 1)
        stash.update_scene(renamed, files=[f"{folder}/{base.upper()}"], title="Upper case")
        with engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ):
            settle(engine, fake_clock)
            assert store.dlq_count() == 0
            assert plex.item(int(old["ratingKey"]))["title"] == "Moved"  # type: ignore[index]
            assert plex.item(int(item["ratingKey"]))["title"] == "Upper case"  # type: ignore[index]


def test_the_first_sync_says_its_plan_before_its_first_write(
    tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    plex, stash = _sims(fake_clock)
    with plex, stash:
        scene_id = _scene_with_files(stash)
        stash.update_scene(scene_id, files=["/srv/downloads/clip.mp4"])
        plex.add_movie(file=FAMILY, title="Grandma's 90th birthday")
        matched = [
            k
            for k in range(1, 7)
            if k != scene_id and plex_item_for(plex, stash.scene(k) or {}) is not None
        ]
        with engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ):
            caplog.set_level("INFO", logger="engine.sync.engine")
            settle(engine, fake_clock)
            said = [r.getMessage() for r in caplog.records if "first sync:" in r.getMessage()]
            assert said == [
                f"Before writing anything: first sync: {len(matched)} item(s) in libraries"
                f" Movies ({len(matched)}); 1 scene(s) held back for you to confirm (see the DLQ)"
            ]
            assert engine.status().first_sync == said[0].removeprefix("Before writing anything: ")
            edits = plex.stats()["by_route"]["PUT /library/sections/{id}/all"]
            assert edits == len(matched)  # one edit each (ratings go by their own PUT)
        with engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ):
            settle(engine, fake_clock)
            assert engine.status().first_sync is None  # said once, for the first sync only
