"""Finding Stash changes: `findScenes` sorted by `updated_at`, above a persisted watermark.

Stash compares `updated_at` as text in its own offset, so the watermark is stored exactly as Stash
returned it, queried with a safety overlap, and changes are de-duplicated by (scene, updated_at).
A scene whose payload equals what already reached Plex is not queued again, and a scene never
synced that has no metadata yet (scanned, not identified) waits instead of wiping Plex.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Protocol

from engine.stash_client import StashScene, watermark_minus
from engine.store import JobStore, payload_hash

logger = logging.getLogger(__name__)

WATERMARK_KEY = "stash_watermark"
OVERLAP_SECONDS = 3600.0  # covers clock skew and a DST shift of Stash's local offset


class StashSource(Protocol):
    def changed_scenes(self, since: str | None) -> Iterator[list[StashScene]]: ...
    def fetch_image(self, url: str) -> bytes: ...
    def close(self) -> None: ...


class StashPoller:
    def __init__(self, stash: StashSource, store: JobStore) -> None:
        self._stash = stash
        self._store = store
        self._seen: dict[str, str] = {}

    def poll(self, stop: threading.Event | None = None) -> int:
        """Queue every changed scene; returns how many jobs were added or replaced."""
        watermark = self._store.get_value(WATERMARK_KEY)
        since = None
        if isinstance(watermark, str) and watermark:
            try:
                since = watermark_minus(watermark, OVERLAP_SECONDS)
            except ValueError:
                logger.warning("The stored Stash watermark is unreadable; reading every scene")
        newest = watermark if isinstance(watermark, str) else None
        seen: dict[str, str] = {}
        added = 0
        for page in self._stash.changed_scenes(since):
            for scene in page:
                seen[scene.id] = scene.updated_at
                if newest is None or scene.updated_at > newest:
                    newest = scene.updated_at
                if self._seen.get(scene.id) == scene.updated_at:
                    continue
                added += self._queue(scene)
            if newest:
                self._store.set_value(WATERMARK_KEY, newest)
            if stop is not None and stop.is_set():
                break
        self._seen = seen
        return added

    def _queue(self, scene: StashScene) -> int:
        if not scene.files:
            logger.info("Scene %s skipped: it has no files, so nothing to match in Plex", scene.id)
            return 0
        pushed = self._store.pushed(scene.id)
        if pushed is None and not scene.has_metadata:
            # Just scanned, not identified yet: pushing now would wipe what Plex has with
            # empties. Its next edit in Stash changes updated_at, and then it is picked up.
            logger.info("Scene %s waits: no metadata in Stash yet (not identified)", scene.id)
            return 0
        payload = scene.payload()
        unchanged = pushed is not None and pushed.payload_hash == payload_hash(payload)
        if unchanged and self._store.get_job(scene.id) is None:
            return 0  # already in Plex exactly like this
        return 1 if self._store.enqueue(scene.id, payload, title=scene.title) else 0
