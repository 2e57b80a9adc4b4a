"""The gates (issue 24, point 7): organized only, StashID or URL only."""

from __future__ import annotations

from typing import Any

import pytest

from engine.config.file import PlexSyncConfig
from engine.plan.gates import gate_reason
from engine.stash.scene import parse_scene

SCENE: dict[str, Any] = {"id": "1", "updated_at": "2024-01-01T00:00:00Z", "title": "t"}


@pytest.mark.parametrize(
    ("fields", "settings", "reason"),
    [
        ({}, {}, None),
        ({}, {"sync_only_organized": True}, "it is not marked organized in Stash"),
        ({"organized": True}, {"sync_only_organized": True}, None),
        ({}, {"sync_only_identified": True}, "it has no StashID or URL in Stash"),
        ({"urls": ["https://x.example/1"]}, {"sync_only_identified": True}, None),
        ({"stash_ids": [{"stash_id": "abc"}]}, {"sync_only_identified": True}, None),
        (
            {"urls": ["  "], "stash_ids": []},
            {"sync_only_identified": True},
            "it has no StashID or URL in Stash",
        ),
        (
            {"organized": True},
            {"sync_only_organized": True, "sync_only_identified": True},
            "it has no StashID or URL in Stash",
        ),
    ],
)
def test_which_scenes_pass_the_gates(
    fields: dict[str, Any], settings: dict[str, Any], reason: str | None
) -> None:
    payload = parse_scene({**SCENE, **fields}).payload()
    assert gate_reason(payload, PlexSyncConfig(**settings)) == reason
