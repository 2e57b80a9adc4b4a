"""Which Plex item is a Stash scene's file: an index by full path, with file-name fallback.

One paged sweep of the movie sections builds `{plex path: item}`; Stash paths are translated by
the configured prefix mappings. A miss triggers one refresh (items added since the last sweep)
before it counts as not found. No per-scene title searches, no per-job section scans.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from engine.config import PathMapping
from engine.errors import AmbiguousMatchError, NotFoundError
from engine.plex_client import PlexItem

logger = logging.getLogger(__name__)


def map_path(path: str, mappings: Iterable[PathMapping]) -> str:
    """A Stash path as Plex sees it: the longest matching prefix wins; unmapped stays as is."""

    def under(prefix: str) -> bool:
        return path == prefix or path.startswith((prefix + "/", prefix + "\\"))

    matches = [m for m in mappings if under(m.stash_prefix.rstrip("/\\"))]
    if not matches:
        return path
    best = max(matches, key=lambda m: len(m.stash_prefix.rstrip("/\\")))
    rest = path[len(best.stash_prefix.rstrip("/\\")) :]
    return best.plex_prefix.rstrip("/\\") + rest.replace("\\", "/")


def basename(path: str) -> str:
    return posixpath.basename(path.replace("\\", "/")).casefold()


@dataclass(frozen=True)
class Match:
    item: PlexItem
    by: str  # "path" or "file name"


class PathIndex:
    """Plex items by file path and by file name."""

    def __init__(self) -> None:
        self._by_path: dict[str, PlexItem] = {}
        self._by_name: dict[str, list[str]] = {}
        self.newest_added_at = 0

    def __len__(self) -> int:
        return len({item.rating_key for item in self._by_path.values()})

    def add(self, item: PlexItem) -> None:
        for path in item.files:
            old = self._by_path.get(path)
            self._by_path[path] = item
            if old is None:
                self._by_name.setdefault(basename(path), []).append(path)
        self.newest_added_at = max(self.newest_added_at, item.added_at)

    def update(self, item: PlexItem) -> None:
        """Replace the stored record (after an edit) without changing its paths."""
        for path in item.files:
            if path in self._by_path:
                self._by_path[path] = item

    def remove(self, item: PlexItem) -> None:
        for path in item.files:
            if self._by_path.pop(path, None) is not None:
                paths = self._by_name.get(basename(path), [])
                if path in paths:
                    paths.remove(path)

    def find(self, stash_files: Iterable[str], mappings: Iterable[PathMapping]) -> Match | None:
        """The item for a scene's files, or None; raises AmbiguousMatchError on several."""
        mappings = list(mappings)
        files = list(stash_files)
        for path in files:
            item = self._by_path.get(map_path(path, mappings))
            if item is not None:
                return Match(item, "path")
        candidates: dict[str, PlexItem] = {}
        for path in files:
            for plex_path in self._by_name.get(basename(path), []):
                item = self._by_path[plex_path]
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
            first = self._by_path[exc.candidates[0]]
            logger.warning("Ambiguous match; using %s (strict matching is off)", exc.candidates[0])
            return Match(first, "file name (ambiguous)")


def not_found(files: list[str]) -> NotFoundError:
    shown = ", ".join(files[:3]) or "(no files)"
    return NotFoundError("Plex has no item for this scene's file", shown)
