"""One queued scene into Plex: find its item by path, plan the edit, one PUT, the poster if it
changed. The engine around it decides what a failure means (breaker, retry, DLQ).

`fetch_image` returns b"" for Stash's placeholder (a scene without a cover): no poster is sent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from engine.clock import Clock
from engine.config import PlexSyncConfig
from engine.desired import apply_params, plan_edit
from engine.errors import AmbiguousMatchError, NotFoundError, SyncError
from engine.file_claims import ClaimStore, Lookup, check_claim
from engine.index_follow import IndexFollower
from engine.matching import Match, PathIndex, not_found
from engine.plex_model import PlexItem, PlexSection
from engine.store import Job, JobStore, Pushed, payload_hash

logger = logging.getLogger(__name__)


class PlexTarget(Protocol):
    """What the engine needs of Plex (`PlexClient` in production, fakes in unit tests)."""

    def probe(self) -> None: ...
    def movie_sections(self) -> list[PlexSection]: ...
    def sweep(
        self, section: PlexSection, *, updated_since: int | None = None
    ) -> Iterator[PlexItem]: ...
    def fetch_item(self, rating_key: str, section_key: str) -> PlexItem: ...
    def fetch_items(self, rating_keys: list[str], section_key: str) -> list[PlexItem]: ...
    def edit(self, item: PlexItem, params: dict[str, str]) -> int | None: ...
    def upload_poster(self, item: PlexItem, image: bytes) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class PushResult:
    """What stands in Plex now, and what Plex could not take as Stash has it."""

    record: Pushed
    notes: list[str] = field(default_factory=list)
    wrote: bool = False  # the metadata PUT was sent (the library check trusts Plex's updatedAt)


class PosterPending(Exception):
    """The metadata reached Plex (`record`), the poster did not (`cause`); retry only the poster."""

    def __init__(self, record: Pushed, cause: SyncError, *, wrote: bool = False) -> None:
        super().__init__(str(cause))
        self.record = record
        self.cause = cause
        self.wrote = wrote


class ScenePusher:
    """Holds the path index of Plex items between jobs (see `engine.index_follow`)."""

    def __init__(self, clock: Clock, storage: JobStore) -> None:
        self._clock = clock
        self._storage = storage
        self._follower = IndexFollower(clock, PathIndex(storage), storage)
        self._refreshed_at = float("-inf")  # monotonic: the last refresh after a miss
        self._prefetched: dict[str, PlexItem] = {}  # full items read for the jobs in hand

    def forget_index(self) -> None:
        """Sweep the whole library again before the next job (another Plex, a library check)."""
        self._follower.forget()

    def refresh_index(self) -> None:
        """Look for what changed in Plex before the next job (Plex was away)."""
        self._follower.refresh_soon()

    def found_now(
        self, plex: PlexTarget, config: PlexSyncConfig, files_by_scene: dict[str, list[str]]
    ) -> list[str]:
        """Plex says it gained items: read them now; the scenes whose files it has now."""
        self._follower.refresh_soon()
        index = self._follower.ensure(plex, config)  # one incremental read (or the first sweep)
        self._refreshed_at = self._clock.monotonic()
        found = []
        for scene_id, files in files_by_scene.items():
            try:
                match = index.find(files, config.path_mappings) if files else None
            except AmbiguousMatchError:
                match = None
                found.append(scene_id)  # present, if not uniquely: the job says which
            if match is not None:
                found.append(scene_id)
        return found

    def push(
        self,
        job: Job,
        *,
        config: PlexSyncConfig,
        plex: PlexTarget,
        fetch_image: Callable[[str], bytes],
        previous: Pushed | None,
        force: bool = False,
        claims: ClaimStore | None = None,
        lookup: Lookup | None = None,
    ) -> PushResult:
        """Bring Plex in line with the job's payload; returns what now stands in Plex.

        `force` (a library check's Fix) writes even when the state equals what we last pushed:
        Plex changed behind our back. With `claims` and `lookup` (Stash's scenes by id), a Plex
        item another scene still has in Stash is refused (`file_claims`). Raises PosterPending
        when the metadata reached Plex but the poster did not.
        """
        index = self._follower.ensure(plex, config)
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
        item = self._storage.known_tags(item) or item
        if force:  # Plex changed behind our back: plan from what it holds now, not the index
            item = self._read_full(plex, index, match.item)
        prev_state = previous.state if previous else None
        plan = plan_edit(payload, item, config, previous=prev_state)
        wrote = False
        if force or plan.state != prev_state:
            if plan.needs_full_item:
                item = self._read_full(plex, index, item)
                plan = plan_edit(payload, item, config, previous=prev_state)
            if plan.params:
                self._edit(plex, index, item, plan.params)
                wrote = True
        for note in plan.notes:
            logger.info("Scene %s: %s", job.scene_id, note)
        old_source = previous.poster_source if previous else None
        old_hash = previous.poster_hash if previous else None
        metadata = Pushed(job.scene_id, payload_hash(payload), plan.state, old_source, old_hash)
        try:
            source, digest = self._push_poster(plex, item, payload, previous, config, fetch_image)
        except SyncError as exc:
            raise PosterPending(metadata, exc, wrote=wrote) from exc
        record = replace(metadata, poster_source=source, poster_hash=digest)
        return PushResult(record, plan.notes, wrote=wrote)

    def prefetch(self, jobs: list[Job], *, config: PlexSyncConfig, plex: PlexTarget) -> None:
        """Read, in one request, the full items the jobs in hand will need (tags to add).

        One request for a batch instead of one per scene; each is used by its job moments
        later, as a read just before the edit would be. A failure here costs nothing: each
        job then reads its item itself, and its errors count as usual.
        """
        self._prefetched = {}
        index = self._follower.ensure(plex, config)
        wanted: dict[str, list[str]] = {}
        for job in jobs:
            item = self._needs_full(job, index, config)
            if item is not None:
                wanted.setdefault(item.section_key, []).append(item.rating_key)
        for section_key, keys in wanted.items():
            if len(keys) < 2:
                continue
            try:
                items = plex.fetch_items(keys, section_key)
            except SyncError as exc:
                logger.debug("Reading %d items at once failed: %s", len(keys), exc)
                return
            self._prefetched.update((full.rating_key, full) for full in items)

    def _needs_full(self, job: Job, index: PathIndex, config: PlexSyncConfig) -> PlexItem | None:
        files = [str(p) for p in job.payload.get("files") or []]
        try:
            match = index.find_loose(files, config.path_mappings) if files else None
        except SyncError:
            return None
        if match is None:
            return None
        item = self._storage.known_tags(match.item) or match.item
        previous = self._storage.pushed(job.scene_id)
        prev_state = previous.state if previous else None
        plan = plan_edit(job.payload, item, config, previous=prev_state)
        return item if plan.state != prev_state and plan.needs_full_item else None

    def _read_full(self, plex: PlexTarget, index: PathIndex, item: PlexItem) -> PlexItem:
        try:
            full = self._prefetched.pop(item.rating_key, None) or plex.fetch_item(
                item.rating_key, item.section_key
            )
        except NotFoundError:
            self._gone(index, item)
            raise
        self._storage.known_put(full, full.updated_at)
        return full

    def _edit(
        self, plex: PlexTarget, index: PathIndex, item: PlexItem, params: dict[str, str]
    ) -> None:
        try:
            written_at = plex.edit(item, params)
        except NotFoundError:
            self._gone(index, item)
            raise
        edited = apply_params(item, params)
        index.update(edited)
        if edited.complete and written_at is not None:
            # Every tag is known as we wrote it, until Plex's updatedAt passes our write.
            self._storage.known_put(edited, written_at)

    def _gone(self, index: PathIndex, item: PlexItem) -> None:
        """Deleted in Plex since we looked: forget it, and look for what replaced it."""
        index.remove(item)
        self._follower.refresh_soon()

    def _refresh(self, plex: PlexTarget, config: PlexSyncConfig) -> bool:
        """After a miss: look for what Plex gained, at most once per poll interval."""
        now = self._clock.monotonic()
        if now - self._refreshed_at < config.poll_interval:
            return False
        self._refreshed_at = now
        self._follower.follow(plex, config)
        return True

    def _match(
        self, index: PathIndex, plex: PlexTarget, config: PlexSyncConfig, files: list[str]
    ) -> Match:
        if not files:
            raise NotFoundError("The scene has no files", "nothing to match in Plex")
        find = index.find if config.strict_matching else index.find_loose
        match = find(files, config.path_mappings)
        if match is None and self._refresh(plex, config):
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
