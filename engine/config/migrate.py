"""Config file migrations: one function per schema version, applied in order before validation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from engine.config.model import SCHEMA_VERSION

logger = logging.getLogger(__name__)

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v2 lets plex_token and stash_api_key be keyring references; plain values stay valid
    (the file fallback), so the data itself is unchanged. The secrets move to the keyring at
    start (engine/config/secret_migration.py), never by reading."""
    return {**data, "schema_version": 2}


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """`data` brought up to SCHEMA_VERSION; a missing, newer or odd version is for validation."""
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        return data
    while version < SCHEMA_VERSION and version in MIGRATIONS:
        data = MIGRATIONS[version](data)
        logger.debug("Config read as schema %d (from %d)", version + 1, version)
        version += 1
    return data
