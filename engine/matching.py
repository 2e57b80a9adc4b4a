"""Which Plex item is a Stash scene's file: an index by full path, with file-name fallback.

One paged sweep of the movie sections builds `{plex path: item}`; Stash paths are translated by
the configured prefix mappings into the Plex server's own path style (a Plex server on Windows
reports `D:\\Media\\x.mp4`, python-plexapi `plexapi/base.py` docstrings). Paths compare in
Unicode NFC (macOS writes NFD), and drive-letter and UNC paths compare without case, as Windows
does. A miss triggers one refresh (items added or changed since the last one) before it counts
as not found. No per-scene title searches, no per-job section scans.
"""

from __future__ import annotations

import logging
import posixpath
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import AmbiguousMatchError, NotFoundError
from engine.plex_index import IndexStore
from engine.plex_model import PlexItem

if TYPE_CHECKING:
    from engine.config import PathMapping  # pydantic: not loaded by readers of the store

logger = logging.getLogger(__name__)


_WINDOWS = re.compile(r"^([A-Za-z]:[\\/]|\\\\)")


def is_windows_path(path: str) -> bool:
    """A drive-letter (`D:\\`) or UNC (`\\\\server`) path."""
    return bool(_WINDOWS.match(path))


def path_key(path: str) -> str:
    """How two paths of the Plex server compare: NFC, and for Windows paths one separator and
    no case (Windows file systems ignore case)."""
    path = unicodedata.normalize("NFC", path)
    if is_windows_path(path):
        return path.replace("/", "\\").casefold()
    return path


def map_path(path: str, mappings: Iterable[PathMapping]) -> str:
    """A Stash path as Plex sees it: the longest matching prefix wins, and the rest is written
    with the Plex prefix's separator; unmapped stays as is."""

    def under(prefix: str) -> bool:
        return path == prefix or path.startswith((prefix + "/", prefix + "\\"))

    matches = [m for m in mappings if under(m.stash_prefix.rstrip("/\\"))]
    if not matches:
        return path
    best = max(matches, key=lambda m: len(m.stash_prefix.rstrip("/\\")))
    rest = path[len(best.stash_prefix.rstrip("/\\")) :].replace("\\", "/")
    if is_windows_path(best.plex_prefix):
        rest = rest.replace("/", "\\")
    return best.plex_prefix.rstrip("/\\") + rest


def basename(path: str) -> str:
    name = posixpath.basename(path.replace("\\", "/"))
    return unicodedata.normalize("NFC", name).casefold()


@dataclass(frozen=True)
class Match:
    item: PlexItem
    by: str  # "path" or "file name"


class PathIndex:
    """Plex items by file path and by file name, stored in the engine's database."""

    def __init__(self, storage: IndexStore) -> None:
        self._storage = storage

    def __len__(self) -> int:
        return self._storage.index_size()

    def clear(self) -> None:
        self._storage.index_clear()

    def add_many(self, items: Iterable[PlexItem]) -> None:
        self._storage.index_put(items, basename, path_key)

    def update(self, item: PlexItem) -> None:
        """Replace the stored record (after an edit); its paths stay the same."""
        self._storage.index_update(item)

    def remove(self, item: PlexItem) -> None:
        self._storage.index_remove(item)

    def find(self, stash_files: Iterable[str], mappings: Iterable[PathMapping]) -> Match | None:
        """The item for a scene's files, or None; raises AmbiguousMatchError on several."""
        mappings = list(mappings)
        files = list(stash_files)
        for path in files:
            item = self._storage.index_by_path(path_key(map_path(path, mappings)))
            if item is not None:
                return Match(item, "path")
        candidates: dict[str, PlexItem] = {}
        for path in files:
            for item in self._storage.index_by_basename(basename(path)):
                candidates[item.rating_key] = item
        if not candidates:
            return None
        if len(candidates) > 1:
            listed = sorted(p for item in candidates.values() for p in item.files)
            raise AmbiguousMatchError(
                "More than one Plex item has this file name",
                "candidates: " + ", ".join(listed[:10]),
                candidates=listed,
            )
        return Match(next(iter(candidates.values())), "file name")

    def find_loose(
        self, stash_files: Iterable[str], mappings: Iterable[PathMapping]
    ) -> Match | None:
        """Like find(), but an ambiguous file name picks the first candidate (non-strict mode)."""
        try:
            return self.find(stash_files, mappings)
        except AmbiguousMatchError as exc:
            first = self._storage.index_by_path(path_key(exc.candidates[0]))
            if first is None:
                raise
            logger.warning("Ambiguous match; using %s (strict matching is off)", exc.candidates[0])
            return Match(first, "file name (ambiguous)")


def not_found(files: list[str]) -> NotFoundError:
    shown = ", ".join(files[:3]) or "(no files)"
    return NotFoundError("Plex has no item for this scene's file", shown)
