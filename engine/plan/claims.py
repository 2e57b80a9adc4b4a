"""Two Stash scenes on one file: said so (dead-lettered with both ids), never "last wins".

Each Plex item remembers the scene that was written to it. Another scene that matches the same
item is checked against Stash first: the first one may have been deleted, merged into another
scene (Stash's `sceneMerge` moves the files and destroys the source) or moved to another file,
and then the new scene takes the item. Only when Stash still has both on the file is the second
dead-lettered, naming both. The poll re-checks such entries and sends the scene again once the
conflict is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.errors import PermanentError
from engine.path_keys import path_key
from engine.plan.matching import Match
from engine.plex.model import PlexItem
from engine.store.claims import ClaimStore

if TYPE_CHECKING:
    from engine.stash.scene import ScenePage  # pydantic: not loaded by readers of the store

logger = logging.getLogger(__name__)

Lookup = Callable[[list[str]], "ScenePage"]


class DuplicateFileError(PermanentError):
    """Stash has two scenes on the file of one Plex item."""


def check_claim(
    storage: ClaimStore,
    scene_id: str,
    item: PlexItem,
    *,
    lookup: Lookup,
    find: Callable[[list[str]], Match | None],
) -> tuple[bool, str | None]:
    """May `scene_id` take `item`? Raises unless Stash no longer has its owner on that file.

    Returns whether the claim is new (the caller records it with `ClaimStore.claim` in the
    transaction that settles the job) and the scene the item is taken from, if any (what it
    wrote there is ours to replace). Until recorded, a second scene on the item waits: the
    engine never has two jobs on one item in flight, and plans the second after the first
    is settled.
    """
    owner = storage.claim_owner(item.rating_key)
    if owner is not None and owner != scene_id:
        page = lookup([owner])
        other = next((s for s in page.scenes if s.id == owner), None)
        match = find(list(other.files)) if other is not None and other.files else None
        if match is not None and match.item.rating_key == item.rating_key:
            path = other.files[0] if other is not None else ""
            storage.record_conflict(scene_id, owner, path)
            raise DuplicateFileError(
                "Two Stash scenes are on one file",
                f"scenes {owner} and {scene_id} are both on {path} (Plex item"
                f" {item.rating_key}); delete or merge one of them in Stash",
            )
        logger.info("Scene %s takes Plex item %s from scene %s", scene_id, item.rating_key, owner)
    if owner == scene_id:
        return False, None
    return True, owner


def recheck_conflicts(storage: ClaimStore, lookup: Lookup, retry: Callable[[int], None]) -> int:
    """Send again each dead-lettered scene whose other scene left the file; returns how many."""
    conflicts = storage.dead_lettered_conflicts()
    if not conflicts:
        return 0
    page = lookup(sorted({other for _, _, other, _ in conflicts}))
    files = {s.id: {path_key(p) for p in s.files} for s in page.scenes}
    cleared = 0
    for entry_id, scene_id, other_id, path in conflicts:
        if path_key(path) in files.get(other_id, set()):
            continue  # Stash still has both scenes on the file
        logger.info(
            "Scene %s no longer shares its file with scene %s; retrying", scene_id, other_id
        )
        storage.drop_conflict(scene_id)
        retry(entry_id)
        cleared += 1
    return cleared
