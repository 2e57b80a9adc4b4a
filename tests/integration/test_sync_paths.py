"""Matching by full path against the Plex server's own path style (issue 10.3) and Unicode
normal form (issue 12.8)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_helpers import API_KEY, TOKEN, config_for, engine_for, settle, simulators

from plexsync_sim.catalog import rel_path
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration


def test_windows_library_with_duplicate_file_names_matches_every_scene_by_full_path(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    n, seed = 12, 5
    with (
        PlexSimulator(
            token=TOKEN, movies=n, seed=seed, path_prefix="D:\\Media", path_style="windows"
        ) as plex,
        StashSimulator(api_key=API_KEY, scenes=n, seed=seed) as stash,
    ):
        with_files = [k for k in range(1, n + 1) if (stash.scene(k) or {}).get("files")]
        for k in with_files:  # the same file name again, in another folder
            name = rel_path(seed, k).rsplit("/", 1)[1]
            plex.add_movie(file=f"D:\\Media\\Copies\\{name}", title="Copy")
        # The user typed the Plex folder in lower case; Windows ignores case, so must we.
        mapping = [{"stash_prefix": "/data", "plex_prefix": "d:\\media"}]
        config = config_for(plex, stash, sync_poster=False, path_mappings=mapping)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)
            assert store.dlq_count() == 0 and store.counts().pending == 0
        by_file = {item["files"][0]: item for item in plex.items()}
        for k in with_files:
            item = by_file[plex.file_of(k)]
            assert "\\" in plex.file_of(k) and "/" not in plex.file_of(k)
            assert item["title"] == (stash.scene(k) or {})["title"], k
        copies = [item for item in plex.items() if "\\Copies\\" in item["files"][0]]
        assert len(copies) == len(with_files)
        assert all(item["title"] == "Copy" and not item["locked"] for item in copies)


def test_a_decomposed_stash_path_matches_the_composed_plex_path(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    composed = unicodedata.normalize("NFC", "Café Crème/Été à Paris.mp4")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    with simulators(n=3) as (plex, stash):
        plex.add_movie(file=f"/media/{composed}", title="Plex title")
        stash.update_scene(2, files=[f"/data/{decomposed}"], title="From Stash")
        with engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ):
            settle(engine, fake_clock)
            assert store.dlq_count() == 0 and store.counts().pending == 0
        matched = [item for item in plex.items() if item["files"] == [f"/media/{composed}"]]
        assert [item["title"] for item in matched] == ["From Stash"]
