"""Which Plex item is a Stash scene's file: an index by full path, with a guarded file-name
fallback (`PathIndex.find` says when a file name alone is trusted).

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
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from engine.errors import AmbiguousMatchError, NotFoundError, PossibleMatchError
from engine.path_keys import folder_key, is_windows_path, path_key
from engine.plex.model import PlexItem
from engine.store.plex_index import IndexStore

if TYPE_CHECKING:
    from engine.config.file import PathMapping  # pydantic: not loaded by readers of the store

logger = logging.getLogger(__name__)


def under(path: str, prefix: str) -> bool:
    """A Stash path is `prefix` or below it."""
    prefix = prefix.rstrip("/\\")
    return path == prefix or path.startswith((prefix + "/", prefix + "\\"))


def map_path(path: str, mappings: Iterable[PathMapping]) -> str:
    """A Stash path as Plex sees it: the longest matching prefix wins, and the rest is written
    with the Plex prefix's separator; unmapped stays as is."""
    matches = [m for m in mappings if under(path, m.stash_prefix)]
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


def key_under(key: str, prefix: str) -> bool:
    """The path key `key` is the Plex prefix `prefix` or below it."""
    top = path_key(prefix).rstrip("/\\")
    return key == top or key.startswith((top + "/", top + "\\"))


class FolderPairs(Protocol):
    """Stash folders the user confirmed to be Plex folders (`match_store.MatchStore`)."""

    def folders_paired(self, stash_folder: str, plex_folder: str) -> bool: ...


@dataclass(frozen=True)
class Match:
    item: PlexItem
    by: str  # "path" or "file name"


class PathIndex:
    """Plex items by file path and by file name, stored in the engine's database."""

    def __init__(self, storage: IndexStore, folders: FolderPairs | None = None) -> None:
        self._storage = storage
        self._folders = folders

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
        """The item for a scene's files, or None; raises AmbiguousMatchError on several.

        A Stash file's mapped path wins. Failing that, an item with the same file name is the
        scene's only when something vouches for its folder (`_vouched`); a same-name item that
        nothing vouches for raises PossibleMatchError (the user confirms it, nothing is
        written). A file name alone is no evidence: `clip.mp4` in a family folder is not the
        Stash scene's `clip.mp4`.
        """
        mappings = list(mappings)
        files = list(stash_files)
        for path in files:
            item = self._storage.index_by_path(path_key(map_path(path, mappings)))
            if item is not None:
                return Match(item, "path")
        trusted: dict[str, PlexItem] = {}
        possible: dict[str, tuple[str, str, str]] = {}
        for path in files:
            name = basename(path)
            for item in self._storage.index_by_basename(name):
                plex_path = next((p for p in item.files if basename(p) == name), item.files[0])
                if self._vouched(path, plex_path, mappings):
                    trusted[item.rating_key] = item
                else:
                    possible.setdefault(item.rating_key, (path, plex_path, item.rating_key))
        if len(trusted) > 1:
            listed = sorted(p for item in trusted.values() for p in item.files)
            raise AmbiguousMatchError(
                "More than one Plex item has this file name",
                "candidates: " + ", ".join(listed[:10]),
                candidates=listed,
            )
        if trusted:
            return Match(next(iter(trusted.values())), "file name")
        if possible:
            raise possible_match(sorted(possible.values(), key=lambda c: c[1]))
        return None

    def _vouched(self, stash_path: str, plex_path: str, mappings: list[PathMapping]) -> bool:
        """Whether a Plex file of the same name may be taken for `stash_path`.

        Three kinds of evidence, each about the folder, never the name:
        - it lies under a mapped Plex prefix: the user said that tree is Stash's library
          (the prefix of a mapping that covers the Stash file, or of any mapping for a file
          none covers);
        - it lies in the folder the mappings put the Stash file in: where every path-matched
          scene of the same Stash folder is (a prefix mapping keeps folders together, so this
          is exactly "a folder other path-matched scenes share"); only the name's case or
          Unicode form differs;
        - the user confirmed a match between this Stash folder and this Plex folder (a
          possible match confirmed from the DLQ): the two are one folder seen by two machines,
          so its other same-name files follow without asking again.
        """
        key = path_key(plex_path)
        covering = [m for m in mappings if under(stash_path, m.stash_prefix)]
        if any(key_under(key, m.plex_prefix) for m in covering or mappings):
            return True
        folder = folder_key(plex_path)
        if folder == folder_key(map_path(stash_path, mappings)):
            return True
        return self._folders is not None and self._folders.folders_paired(
            folder_key(stash_path), folder
        )

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


def possible_match(candidates: list[tuple[str, str, str]]) -> PossibleMatchError:
    """Same-name Plex items nothing vouches for: named, with their rating keys, to confirm."""
    shown = ", ".join(f"{plex} (Plex item {key})" for _stash, plex, key in candidates[:5])
    return PossibleMatchError(
        "Possible match: only the file name is the same",
        f"{shown}; nothing written. Confirm it if it is this scene's file (or add a path mapping)",
        candidates=candidates,
    )


def not_found(files: list[str]) -> NotFoundError:
    shown = ", ".join(files[:3]) or "(no files)"
    return NotFoundError("Plex has no item for this scene's file", shown)
