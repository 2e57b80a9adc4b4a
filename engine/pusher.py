"""One queued scene into Plex: find its item by path, plan the edit, one PUT, the poster if it
changed. The engine around it decides what a failure means (breaker, retry, DLQ).

`fetch_image` returns b"" for Stash's placeholder (a scene without a cover): no poster is sent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, Protocol

from engine.clock import Clock
from engine.config import PlexSyncConfig
from engine.desired import apply_params, plan_edit
from engine.errors import AmbiguousMatchError, NotFoundError, SyncError
from engine.file_claims import ClaimStore, Lookup, check_claim
from engine.matching import Match, PathIndex, not_found
from engine.plex_index import IndexStore
from engine.plex_model import PlexItem, PlexSection
from engine.store import Job, Pushed, payload_hash

logger = logging.getLogger(__name__)


class PlexTarget(Protocol):
    """What the engine needs of Plex (`PlexClient` in production, fakes in unit tests)."""

    def probe(self) -> None: ...
    def movie_sections(self) -> list[PlexSection]: ...
    def sweep(
        self, section: PlexSection, *, added_since: int | None = None
    ) -> Iterator[PlexItem]: ...
    def fetch_item(self, rating_key: str, section_key: str) -> PlexItem: ...
    def edit(self, item: PlexItem, params: dict[str, str]) -> None: ...
    def upload_poster(self, item: PlexItem, image: bytes) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class PushResult:
    """What stands in Plex now, and what Plex could not take as Stash has it."""

    record: Pushed
    notes: list[str] = field(default_factory=list)


class PosterPending(Exception):
    """The metadata reached Plex (`record`), the poster did not (`cause`); retry only the poster."""

    def __init__(self, record: Pushed, cause: SyncError) -> None:
        super().__init__(str(cause))
        self.record = record
        self.cause = cause


class ScenePusher:
    """Holds the path index of Plex items between jobs."""

    def __init__(self, clock: Clock, storage: IndexStore) -> None:
        self._clock = clock
        self._storage = storage
        self._index: PathIndex | None = None
        self._sections: list[PlexSection] = []
        self._refreshed_at = float("-inf")

    def forget_index(self) -> None:
        """Sweep again before the next job (Plex changed, or may come back different)."""
        self._index = None

    def push(
        self,
        job: Job,
        *,
        config: PlexSyncConfig,
        plex: PlexTarget,
        fetch_image: Callable[[str], bytes],
        previous: Pushed | None,
        claims: ClaimStore | None = None,
        lookup: Lookup | None = None,
    ) -> PushResult:
        """Bring Plex in line with the job's payload; returns what now stands in Plex.

        With `claims` and `lookup` (Stash's scenes by id), a Plex item another scene still has
        in Stash is refused (`file_claims`). Raises PosterPending when the metadata reached
        Plex but the poster did not.
        """
        index = self._ensure_index(plex)
        payload = job.payload
        match = self._match(index, plex, config, [str(p) for p in payload.get("files") or []])
        item = match.item
        if claims is not None and lookup is not None:

            def other_match(files: list[str]) -> Match | None:
                try:
                    return index.find(files, config.path_mappings)
                except AmbiguousMatchError:
                    return None  # not provably on this item

            taken_from = check_claim(claims, job.scene_id, item, lookup=lookup, find=other_match)
            if taken_from is not None:
                # A new item for this scene: what the scene that had it wrote there is what
                # goes (our own last write was to another item).
                state = claims.written_state(taken_from)
                previous = Pushed(job.scene_id, "", state, None, None) if state else None
        prev_state = previous.state if previous else None
        plan = plan_edit(payload, item, config, previous=prev_state)
        if plan.state != prev_state:
            if plan.needs_full_item:
                item = plex.fetch_item(item.rating_key, item.section_key)
                plan = plan_edit(payload, item, config, previous=prev_state)
            if plan.params:
                try:
                    plex.edit(item, plan.params)
                except NotFoundError:
                    index.remove(item)  # deleted in Plex since the sweep
                    raise
                index.update(apply_params(item, plan.params))
        for note in plan.notes:
            logger.info("Scene %s: %s", job.scene_id, note)
        old_source = previous.poster_source if previous else None
        old_hash = previous.poster_hash if previous else None
        metadata = Pushed(job.scene_id, payload_hash(payload), plan.state, old_source, old_hash)
        try:
            source, digest = self._push_poster(plex, item, payload, previous, config, fetch_image)
        except SyncError as exc:
            raise PosterPending(metadata, exc) from exc
        return PushResult(replace(metadata, poster_source=source, poster_hash=digest), plan.notes)

    def _ensure_index(self, plex: PlexTarget) -> PathIndex:
        if self._index is None:
            self._sections = plex.movie_sections()
            index = PathIndex(self._storage)
            index.clear()
            for section in self._sections:
                for page in _pages(plex.sweep(section)):
                    index.add_many(page)
            self._index = index
            self._refreshed_at = self._clock.monotonic()
            logger.info("Indexed %d Plex items in %d section(s)", len(index), len(self._sections))
        return self._index

    def _refresh(self, index: PathIndex, plex: PlexTarget, min_interval: float) -> bool:
        """Add items Plex gained since the last sweep; at most once per `min_interval`."""
        now = self._clock.monotonic()
        if now - self._refreshed_at < min_interval:
            return False
        since = max(0, index.newest_added_at - 1)
        for section in self._sections:
            for page in _pages(plex.sweep(section, added_since=since)):
                index.add_many(page)
        self._refreshed_at = now
        return True

    def _match(
        self, index: PathIndex, plex: PlexTarget, config: PlexSyncConfig, files: list[str]
    ) -> Match:
        if not files:
            raise NotFoundError("The scene has no files", "nothing to match in Plex")
        find = index.find if config.strict_matching else index.find_loose
        match = find(files, config.path_mappings)
        if match is None and self._refresh(index, plex, config.poll_interval):
            match = find(files, config.path_mappings)
        if match is None:
            raise not_found(files)
        return match

    @staticmethod
    def _push_poster(
        plex: PlexTarget,
        item: PlexItem,
        payload: dict[str, Any],
        previous: Pushed | None,
        config: PlexSyncConfig,
        fetch_image: Callable[[str], bytes],
    ) -> tuple[str | None, str | None]:
        source = str(payload.get("screenshot") or "") or None
        old_source = previous.poster_source if previous else None
        old_hash = previous.poster_hash if previous else None
        if not config.sync_poster or source is None:
            return old_source, old_hash
        if source == old_source and old_hash is not None:
            return source, old_hash
        try:
            image = fetch_image(source)
        except SyncError as exc:
            exc.service = "stash"  # a Stash problem must not count against Plex's breaker
            raise
        if not image:
            return source, None  # Stash's placeholder: no cover, so Plex keeps its own poster
        digest = hashlib.sha256(image).hexdigest()
        if digest != old_hash:
            plex.upload_poster(item, image)
        return source, digest


def _pages(items: Iterable[PlexItem], size: int = 1000) -> Iterator[list[PlexItem]]:
    """Batches for one index transaction each."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
