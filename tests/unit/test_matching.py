"""Stash paths into the Plex server's own path style, and how its paths compare."""

from __future__ import annotations

import unicodedata

import pytest

from engine.config import PathMapping
from engine.matching import basename, map_path, path_key


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
