"""Stash paths into the Plex server's own path style, and how its paths compare."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_clock import FakeClock

from engine.config.file import PathMapping
from engine.errors import PossibleMatchError
from engine.path_keys import folder_key, path_key
from engine.plan.matching import PathIndex, basename, map_path
from engine.plex.model import PlexItem
from engine.store.jobs import JobStore


@pytest.mark.parametrize(
    ("path", "stash_prefix", "plex_prefix", "expected"),
    [
        ("/data/sub/x.mp4", "/data", "D:\\Media", "D:\\Media\\sub\\x.mp4"),
        ("/data/sub/x.mp4", "/data/", "D:\\", "D:\\sub\\x.mp4"),
        ("/data/sub/x.mp4", "/data", "\\\\nas\\share", "\\\\nas\\share\\sub\\x.mp4"),
        ("E:\\stash\\sub\\x.mp4", "E:\\stash", "/media", "/media/sub/x.mp4"),
        ("/data/sub/x.mp4", "/data", "/media", "/media/sub/x.mp4"),
    ],
)
def test_mapped_paths_use_the_plex_prefix_separator(
    path: str, stash_prefix: str, plex_prefix: str, expected: str
) -> None:
    mapping = PathMapping(stash_prefix=stash_prefix, plex_prefix=plex_prefix)
    assert map_path(path, [mapping]) == expected


def test_drive_letter_paths_compare_without_case_posix_paths_with_it() -> None:
    assert path_key("D:\\Media\\Clip.MP4") == path_key("d:/media/clip.mp4")
    assert path_key("/media/Clip.mp4") != path_key("/media/clip.mp4")


def test_paths_and_names_compare_in_composed_unicode() -> None:
    nfd = unicodedata.normalize("NFD", "/media/Café.mp4")
    assert path_key(nfd) == path_key("/media/Café.mp4")
    assert basename(nfd) == basename("D:\\x\\café.mp4")


class _Folders:
    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.pairs = set(pairs)

    def folders_paired(self, stash_folder: str, plex_folder: str) -> bool:
        return (stash_folder, plex_folder) in self.pairs


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    opened = JobStore(tmp_path / "db.sqlite3", clock=FakeClock())
    yield opened
    opened.close()


def _index(store: JobStore, folders: _Folders | None, *files: str) -> PathIndex:
    index = PathIndex(store, folders)
    index.add_many(
        PlexItem(str(100 + n), "1", "t", "", "", "", (), (), (), (f,), 0)
        for n, f in enumerate(files)
    )
    return index


MAPPED = [PathMapping(stash_prefix="/data", plex_prefix="/media")]


@pytest.mark.parametrize(
    ("stash_file", "plex_file", "mappings"),
    [
        ("/data/new/clip.mp4", "/media/old/clip.mp4", MAPPED),  # under the mapped prefix
        ("/srv/x/clip.mp4", "/media/old/clip.mp4", MAPPED),  # unmapped file: any mapped prefix
        ("/data/a/Clip.MP4", "/media/a/clip.mp4", MAPPED),  # the mapped folder, another case
        ("/srv/a/Clip.mp4", "/srv/a/clip.mp4", []),  # no mapping: its own folder
    ],
)
def test_a_file_name_matches_where_the_folder_is_vouched_for(
    store: JobStore, stash_file: str, plex_file: str, mappings: list[PathMapping]
) -> None:
    match = _index(store, None, plex_file).find([stash_file], mappings)
    assert match is not None and match.by == "file name"


@pytest.mark.parametrize(
    ("stash_file", "plex_file", "mappings"),
    [
        ("/srv/downloads/clip.mp4", "/home/family/clip.mp4", MAPPED),
        ("/data/a/clip.mp4", "/home/family/clip.mp4", MAPPED),
        ("/data/a/clip.mp4", "/media/a/clip.mp4", []),
        (  # under another mapping's Plex prefix than the one covering the Stash file
            "/data/a/clip.mp4",
            "/media/b/clip.mp4",
            [
                PathMapping(stash_prefix="/data", plex_prefix="/library"),
                PathMapping(stash_prefix="/other", plex_prefix="/media/b"),
            ],
        ),
    ],
)
def test_a_file_name_alone_is_only_a_possible_match(
    store: JobStore, stash_file: str, plex_file: str, mappings: list[PathMapping]
) -> None:
    with pytest.raises(PossibleMatchError) as raised:
        _index(store, None, plex_file).find([stash_file], mappings)
    assert raised.value.candidates == [(stash_file, plex_file, "100")]


def test_a_confirmed_folder_pair_vouches_for_its_same_name_files(store: JobStore) -> None:
    folders = _Folders((folder_key("/srv/clips/a.mp4"), folder_key("/mnt/plex/clips/a.mp4")))
    index = _index(store, folders, "/mnt/plex/clips/b.mp4", "/mnt/plex/other/b.mp4")
    match = index.find(["/srv/clips/b.mp4"], [])
    assert match is not None and match.item.files == ("/mnt/plex/clips/b.mp4",)


def test_folder_keys_keep_the_root_and_ignore_windows_case() -> None:
    assert folder_key("/clip.mp4") == "/"
    assert folder_key("D:\\Clip.mp4") == folder_key("d:\\x.mp4") == "d:\\"
    assert folder_key("/a/B/c.mp4") == "/a/B"
