"""Which scenes are synced at all: the gates a user can set (issue 24, point 7).

Stash's `organized` flag (`scene.graphql` `organized: Boolean!`) and its StashIDs and URLs
(`stash_ids`, `urls`) say a scene is done or identified; with a gate on, other scenes are not
sent. Passing no gate is not a reason to wipe anything: what we wrote stays in Plex.
"""

from __future__ import annotations

from typing import Any

from engine.config.file import PlexSyncConfig


def gate_reason(payload: dict[str, Any], config: PlexSyncConfig) -> str | None:
    """Why the scene is not synced under the config's gates, or None if it is."""
    if config.sync_only_organized and not payload.get("organized"):
        return "it is not marked organized in Stash"
    if config.sync_only_identified and not (payload.get("stash_ids") or payload.get("urls")):
        return "it has no StashID or URL in Stash"
    return None
