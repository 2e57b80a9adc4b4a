"""The Plex simulator's library: movies generated lazily from the seed, edits stored.

Rating keys: catalogue movie ``k`` (1-based) has ``ratingKey = RATING_KEY_BASE + k`` (1001,
1002, ...). Movies added later (``add_movie`` or a scan that finds a pending file) get the next
keys after the catalogue. Only edited or added movies are stored; every other movie is rebuilt
from ``(seed, k)`` when asked for, so 100,000 movies cost almost no memory.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from plexsync_sim.catalog import base_timestamp, join_prefix, rel_path, title_from_path

RATING_KEY_BASE = 1000
COLLECTION_KEY_BASE = 50_000_000  # collections' rating keys, far from any movie's
PATH_STYLES = ("posix", "windows")

# edit kind -> XML element name. Listings truncate some kinds, like Plex Media Server does:
# collections after 2 (python-plexapi issue #200; Kometa issue #1542 "item.collections only
# returns the first two collections"), genres, roles and crew as in captured PMS listing XML
# (home-assistant/core tests/components/plex/fixtures). The full item has every tag.
TAG_ELEMENTS = {
    "genre": "Genre",
    "director": "Director",
    "writer": "Writer",
    "producer": "Producer",
    "country": "Country",
    "collection": "Collection",
    "label": "Label",
    "actor": "Role",
}
LISTING_TAG_LIMITS = {
    "collection": 2,
    "genre": 2,
    "actor": 3,
    "director": 1,
    "writer": 1,
    "producer": 1,
    "country": 1,
}
VALUE_FIELDS = (
    "title",
    "titleSort",
    "originalTitle",
    "studio",
    "summary",
    "tagline",
    "originallyAvailableAt",
    "contentRating",
    "userRating",
    "editionTitle",
    "addedAt",  # epoch seconds (plexapi `editAddedAt` sends an int); kept in `added_at`
)


@dataclass
class PlexMovie:
    """One movie as the simulator holds it; ``fields`` maps Plex field names to text."""

    rating_key: int
    file: str
    added_at: int
    updated_at: int
    fields: dict[str, str]
    tags: dict[str, list[str]] = field(default_factory=dict)
    locked: set[str] = field(default_factory=set)
    poster_sha256: str | None = None
    poster_url: str | None = None
    art_sha256: str | None = None

    @property
    def title(self) -> str:
        return self.fields.get("title", "")

    @property
    def duration_ms(self) -> int:
        return 600_000 + (self.rating_key * 104_729 % 3_000) * 1_000

    @property
    def size(self) -> int:
        return 100_000_000 + (self.rating_key * 7_919 % 900) * 1_000_000

    def to_json(self) -> dict[str, Any]:
        """The shape of one entry of ``GET /__sim__/items``."""
        return {
            "ratingKey": self.rating_key,
            "title": self.title,
            "titleSort": self.fields.get("titleSort"),
            "studio": self.fields.get("studio"),
            "summary": self.fields.get("summary"),
            "tagline": self.fields.get("tagline"),
            "originalTitle": self.fields.get("originalTitle"),
            "editionTitle": self.fields.get("editionTitle"),
            "contentRating": self.fields.get("contentRating"),
            "userRating": self.fields.get("userRating"),
            "originallyAvailableAt": self.fields.get("originallyAvailableAt"),
            "genres": list(self.tags.get("genre", [])),
            "actors": list(self.tags.get("actor", [])),
            "collections": list(self.tags.get("collection", [])),
            "labels": list(self.tags.get("label", [])),
            "directors": list(self.tags.get("director", [])),
            "files": [self.file],
            "locked": sorted(self.locked),
            "poster_sha256": self.poster_sha256,
            "poster_url": self.poster_url,
            "art_sha256": self.art_sha256,
            "addedAt": self.added_at,
            "updatedAt": self.updated_at,
        }


def plex_path(prefix: str, rel: str, style: str) -> str:
    """A catalogue file as the Plex server reports it: a Plex server on Windows gives
    `D:\\Media\\sub\\x.mp4` (python-plexapi `plexapi/base.py` docstring example "D:\\\\Movies")."""
    if style == "windows":
        return prefix.rstrip("\\/") + "\\" + rel.replace("/", "\\")
    return join_prefix(prefix, rel)


class KeyView(Sequence[int]):
    """All rating keys in library order, without materialising the catalogue range; catalogue
    movies deleted from the library (``removed``, sorted) are skipped."""

    def __init__(self, catalogue: int, added: Sequence[int], removed: Sequence[int] = ()) -> None:
        self._catalogue = catalogue
        self._added = tuple(added)
        self._removed = tuple(removed)

    def __len__(self) -> int:
        return self._catalogue - len(self._removed) + len(self._added)

    def _catalogue_key(self, index: int) -> int:
        """The key of the `index`-th catalogue movie still there (skipping removed ones)."""
        key = RATING_KEY_BASE + 1 + index
        while True:
            shifted = RATING_KEY_BASE + 1 + index + bisect.bisect_right(self._removed, key)
            if shifted == key:
                return key
            key = shifted

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        kept = self._catalogue - len(self._removed)
        if index < kept:
            return self._catalogue_key(index)
        return self._added[index - kept]

    def __iter__(self) -> Iterator[int]:
        removed = set(self._removed)
        for key in range(RATING_KEY_BASE + 1, RATING_KEY_BASE + 1 + self._catalogue):
            if key not in removed:
                yield key
        yield from self._added


class PlexLibrary:
    """Thread-safe store of the movie section: generated movies plus stored edits."""

    def __init__(
        self,
        *,
        seed: int,
        movies: int,
        path_prefix: str,
        now: Callable[[], float],
        path_style: str = "posix",
    ) -> None:
        if movies < 0:
            raise ValueError("movies must be >= 0")
        if path_style not in PATH_STYLES:
            raise ValueError(f"path_style must be one of {PATH_STYLES}")
        self.path_style = path_style
        self.seed = seed
        self.catalogue = movies
        self.path_prefix = path_prefix
        self._now = now
        self.lock = threading.RLock()
        self._stored: dict[int, PlexMovie] = {}
        self._added: list[int] = []
        self._removed: list[int] = []  # catalogue keys deleted from the library, sorted
        self._pending: list[tuple[str, str | None]] = []
        self._next_key = RATING_KEY_BASE + movies + 1
        self._collections: dict[int, str] = {}  # collection rating key -> title

    def now(self) -> int:
        return int(self._now())

    # -- reading -----------------------------------------------------------------------------
    def _catalogue_index(self, rating_key: int) -> int | None:
        index = rating_key - RATING_KEY_BASE
        if not 1 <= index <= self.catalogue or self._is_removed(rating_key):
            return None
        return index

    def _is_removed(self, rating_key: int) -> bool:
        at = bisect.bisect_left(self._removed, rating_key)
        return at < len(self._removed) and self._removed[at] == rating_key

    def _generate(self, index: int) -> PlexMovie:
        rel = rel_path(self.seed, index)
        stamp = base_timestamp(index)
        return PlexMovie(
            rating_key=RATING_KEY_BASE + index,
            file=plex_path(self.path_prefix, rel, self.path_style),
            added_at=stamp,
            updated_at=stamp,
            fields={"title": title_from_path(rel)},
        )

    def get(self, rating_key: int) -> PlexMovie | None:
        """The movie (do not mutate it; use ``mutable``), or None if the key is unknown."""
        stored = self._stored.get(rating_key)
        if stored is not None:
            return stored
        index = self._catalogue_index(rating_key)
        return self._generate(index) if index is not None else None

    def mutable(self, rating_key: int) -> PlexMovie:
        """The stored movie to edit (generated and stored on first use); KeyError if unknown."""
        with self.lock:
            stored = self._stored.get(rating_key)
            if stored is None:
                index = self._catalogue_index(rating_key)
                if index is None:
                    raise KeyError(rating_key)
                stored = self._stored[rating_key] = self._generate(index)
            return stored

    def keys(self) -> KeyView:
        with self.lock:
            return KeyView(self.catalogue, self._added, self._removed)

    def __len__(self) -> int:
        return self.catalogue - len(self._removed) + len(self._added)

    def added_at(self, rating_key: int) -> int:
        stored = self._stored.get(rating_key)
        return stored.added_at if stored else base_timestamp(rating_key - RATING_KEY_BASE)

    def updated_at(self, rating_key: int) -> int:
        stored = self._stored.get(rating_key)
        return stored.updated_at if stored else base_timestamp(rating_key - RATING_KEY_BASE)

    def field_value(self, rating_key: int, name: str) -> str:
        stored = self._stored.get(rating_key)
        if stored is not None:
            return stored.fields.get(name, "")
        if name in ("title", "titleSort"):
            return title_from_path(rel_path(self.seed, rating_key - RATING_KEY_BASE))
        return ""

    def snapshot(self) -> list[dict[str, Any]]:
        """Every movie as JSON (``/__sim__/items``); generates the whole catalogue."""
        with self.lock:
            keys = list(self.keys())
            return [movie.to_json() for rk in keys if (movie := self.get(rk)) is not None]

    def copy_of(self, rating_key: int) -> PlexMovie | None:
        with self.lock:
            movie = self.get(rating_key)
            return copy.deepcopy(movie) if movie is not None else None

    # -- writing -----------------------------------------------------------------------------
    def add_movie(self, file: str, title: str | None = None) -> int:
        """A new movie appears now (``addedAt = now``); returns its rating key."""
        with self.lock:
            stamp = self.now()
            rating_key = self._next_key
            self._next_key += 1
            self._stored[rating_key] = PlexMovie(
                rating_key=rating_key,
                file=file,
                added_at=stamp,
                updated_at=stamp,
                fields={"title": title or title_from_path(file.replace("\\", "/"))},
            )
            self._added.append(rating_key)
            return rating_key

    def remove_movie(self, rating_key: int) -> None:
        """The movie is deleted from the library (its rating key is never used again, as in
        Plex: a file moved back is a new item); KeyError if unknown."""
        with self.lock:
            if rating_key in self._added:
                self._added.remove(rating_key)
            elif self._catalogue_index(rating_key) is not None:
                bisect.insort(self._removed, rating_key)
            else:
                raise KeyError(rating_key)
            self._stored.pop(rating_key, None)

    def add_pending(self, file: str, title: str | None = None) -> None:
        """A file that shows up as a movie when a scan covers its folder."""
        with self.lock:
            self._pending.append((file, title))

    def scan(self, path: str | None) -> list[int]:
        """Add pending files under ``path`` (all if None); returns the new rating keys."""
        with self.lock:
            sep = "\\" if self.path_style == "windows" else "/"
            prefix = None if path is None else path.rstrip("/\\") + sep
            found = [p for p in self._pending if prefix is None or p[0].startswith(prefix)]
            self._pending = [p for p in self._pending if p not in found]
            return [self.add_movie(file, title) for file, title in found]

    # -- collections, from the collection's side -------------------------------------------
    def collection_key(self, title: str) -> int:
        """The rating key of the collection `title` (case-insensitive), made on first use."""
        with self.lock:
            for key, name in self._collections.items():
                if name.casefold() == title.casefold():
                    return key
            key = COLLECTION_KEY_BASE + len(self._collections) + 1
            self._collections[key] = title
            return key

    def collection_title(self, key: int) -> str | None:
        return self._collections.get(key)

    def collection_titles(self) -> list[str]:
        """Every collection: those made on their side and every collection tag an item has."""
        with self.lock:
            for movie in list(self._stored.values()):
                for name in movie.tags.get("collection", []):
                    self.collection_key(name)
            return list(self._collections.values())

    def collection_members(self, title: str) -> list[int]:
        folded = title.casefold()
        with self.lock:
            return sorted(
                rk
                for rk, movie in self._stored.items()
                if any(n.casefold() == folded for n in movie.tags.get("collection", []))
            )

    def collection_add(self, key: int, rating_keys: list[int]) -> None:
        """Items join the collection from its side (`PUT /library/collections/{id}/items`):
        their collection tags change, their `updatedAt` does not (PlexKodiConnect issues #689
        and #2095: Plex does not mark the movie changed)."""
        with self.lock:
            title = self._collections[key]
            for rk in rating_keys:
                names = self.mutable(rk).tags.setdefault("collection", [])
                if all(n.casefold() != title.casefold() for n in names):
                    names.append(title)

    def collection_remove(self, key: int, rating_key: int) -> None:
        """An item leaves the collection from its side (`DELETE .../items/{ratingKey}`);
        its `updatedAt` stays as it was."""
        with self.lock:
            title = self._collections[key].casefold()
            movie = self.mutable(rating_key)
            names = movie.tags.get("collection", [])
            movie.tags["collection"] = [n for n in names if n.casefold() != title]

    # -- a restore from one of Plex's scheduled backups -------------------------------------
    def backup(self) -> LibraryBackup:
        """The library as a database backup holds it (Plex's scheduled backup task)."""
        with self.lock:
            return LibraryBackup(
                copy.deepcopy(self._stored),
                list(self._added),
                list(self._removed),
                list(self._pending),
                self._next_key,
                dict(self._collections),
            )

    def restore(self, saved: LibraryBackup) -> None:
        """Plex's database is replaced by `saved`: every item, its metadata and its
        `updatedAt` are as they were then (older than anything written since)."""
        with self.lock:
            self._stored = copy.deepcopy(saved.stored)
            self._added, self._removed = list(saved.added), list(saved.removed)
            self._pending = list(saved.pending)
            self._next_key = saved.next_key
            self._collections = dict(saved.collections)


@dataclass(frozen=True)
class LibraryBackup:
    """What `PlexLibrary.backup` saved."""

    stored: dict[int, PlexMovie]
    added: list[int]
    removed: list[int]
    pending: list[tuple[str, str | None]]
    next_key: int
    collections: dict[int, str]
