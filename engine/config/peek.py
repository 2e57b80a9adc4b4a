"""What the CLI can tell from the config file without validating it: no pydantic, no keyring, so
`plexsync status` stays fast (bench/cli_startup_bench.py). `engine.config.file` does the real
load."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from engine.config.secret_store import reference_of
from engine.config.secrets import plain_secret_in

MAX_CONFIG_BYTES = 1_000_000  # a real config is a few KB

EXPOSED_WARNING = (
    "The config file holds your token but other users can read it. "
    "Run `plexsync config fix-permissions` (or use the button in the settings) "
    "to make it private (mode 0600)."
)


def raw_config(path: Path) -> dict[str, Any] | None:
    """The file's JSON object as written, or None when it is missing or not one."""
    try:
        with path.open("rb") as handle:
            data = json.loads(handle.read(MAX_CONFIG_BYTES + 1))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def readable_by_others(path: Path) -> bool:
    if os.name != "posix":
        return False  # Windows keeps per-user profiles private by ACL
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def exposes_secret(path: Path) -> bool:
    """The file holds a token or key in plain text and other users can read it."""
    data = raw_config(path) if readable_by_others(path) else None
    return data is not None and plain_secret_in(data)


def looks_configured(path: Path) -> bool:
    """A Plex URL and a token (or a keyring reference to one) are set; values are not checked."""
    data = raw_config(path) or {}
    url, token = data.get("plex_url"), data.get("plex_token")
    has_token = (isinstance(token, str) and token.strip()) or reference_of(token) is not None
    return bool(isinstance(url, str) and url.strip() and has_token)
