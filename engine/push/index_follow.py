"""Keeps the Plex path index true at a cost that grows with what changed in Plex.

The index lives in the engine's database across restarts. Before work it is brought up to date
with the items Plex added or changed since the last look (`updatedAt>>=`, one listing page per
section for a few changes), at most once per poll interval. A full sweep happens only when it
must: no index yet, other sections, another server, libraries or path mappings, once a day
(the only way to see items removed from Plex, besides a 404 on an edit), or when asked (a
library check, `forget`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Protocol

from engine.clock import DAY, Clock
from engine.config.file import PlexSyncConfig
from engine.plan.matching import PathIndex
from engine.plex.model import PlexItem, PlexSection

logger = logging.getLogger(__name__)

META_KEY = "plex_index"
FULL_SWEEP_EVERY = DAY  # seconds: how stale the list of what Plex removed may get
SECTIONS_EVERY = 3600.0  # seconds between looks at Plex's section list when nothing else calls


class Lister(Protocol):
    """The reads of Plex the index needs (`PlexClient`, or a fake)."""

    def movie_sections(self) -> list[PlexSection]: ...
    def sweep(
        self, section: PlexSection, *, updated_since: int | None = None
    ) -> Iterator[PlexItem]: ...


class MetaStore(Protocol):
    def get_value(self, key: str) -> object: ...
    def set_value(self, key: str, value: object) -> None: ...


class IndexFollower:
    """Decides between nothing, an incremental refresh and a full sweep."""

    def __init__(self, clock: Clock, index: PathIndex, meta: MetaStore) -> None:
        self._clock = clock
        self._index = index
        self._meta = meta
        self._fresh_until = float("-inf")  # monotonic
        self._full_wanted = False
        self.follows = 0  # how often the index was brought up to date (plans made before go)

    @property
    def index(self) -> PathIndex:
        return self._index

    def forget(self) -> None:
        """Sweep everything before the next job (a library check, another server)."""
        self._full_wanted = True
        self._fresh_until = float("-inf")

    def refresh_soon(self) -> None:
        """Look for changes before the next job (Plex was away, or an item was not found)."""
        self._fresh_until = float("-inf")

    def ensure(self, plex: Lister, config: PlexSyncConfig) -> PathIndex:
        """The index, refreshed first when the last look is older than a poll interval."""
        if self._clock.monotonic() >= self._fresh_until:
            self.follow(plex, config)
        return self._index

    def follow(self, plex: Lister, config: PlexSyncConfig) -> None:
        self.follows += 1
        meta = self._load()
        now = self._clock.now()
        key = fingerprint(config)
        full = self._full_wanted or meta.get("key") != key
        full = full or now - _number(meta.get("swept_at")) >= FULL_SWEEP_EVERY
        stored = _sections(meta.get("sections"))
        sections = stored
        if full or not stored or now - _number(meta.get("sections_at")) >= SECTIONS_EVERY:
            sections = plex.movie_sections()
            meta["sections_at"] = now
            if [s.key for s in sections] != [s.key for s in stored]:
                full = True
        if full:
            self._meta.set_value(META_KEY, {})  # a sweep cut short must not pass for whole
            newest = self._sweep(plex, sections, None)
            meta["swept_at"] = now
            logger.info("Indexed %d Plex items in %d section(s)", len(self._index), len(sections))
        else:
            since = int(_number(meta.get("since"), 0))
            newest = max(since, self._sweep(plex, sections, max(0, since - 1)))
        meta.update(key=key, since=newest, sections=[[s.key, s.title] for s in sections])
        self._meta.set_value(META_KEY, meta)
        self._full_wanted = False
        self._fresh_until = self._clock.monotonic() + config.poll_interval

    def _sweep(self, plex: Lister, sections: list[PlexSection], since: int | None) -> int:
        """Index what the listings return; returns the newest `updatedAt` seen (Plex's clock)."""
        if since is None:
            self._index.clear()
        newest = 0
        for section in sections:
            for page in _pages(plex.sweep(section, updated_since=since)):
                self._index.add_many(page)
                newest = max([newest, *(item.updated_at for item in page)])
        return newest

    def _load(self) -> dict[str, object]:
        value = self._meta.get_value(META_KEY)
        return dict(value) if isinstance(value, dict) else {}


def _number(value: object, default: float = float("-inf")) -> float:
    return float(value) if isinstance(value, int | float) else default


def _sections(value: object) -> list[PlexSection]:
    if not isinstance(value, list):
        return []
    return [PlexSection(str(pair[0]), str(pair[1])) for pair in value if len(pair) == 2]


def fingerprint(config: PlexSyncConfig) -> str:
    """What the index depends on: the server, the chosen libraries and the path mappings."""
    mappings = sorted((m.stash_prefix, m.plex_prefix) for m in config.path_mappings)
    libraries = sorted(title.strip().casefold() for title in config.plex_libraries)
    return json.dumps([config.plex_url, libraries, mappings])


def _pages(items: Iterable[PlexItem], size: int = 1000) -> Iterator[list[PlexItem]]:
    """Batches for one index transaction each."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
