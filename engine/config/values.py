"""One setting's value as typed on a command line, checked against the settings model, with
errors that name the setting and what it accepts (never pydantic's own wording)."""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Literal

from engine.config.model import PathMapping, PlexSyncConfig

TRUE = ("true", "on", "yes", "1")
FALSE = ("false", "off", "no", "0")
NOT_SETTABLE = ("schema_version",)
UNITS = {
    "poll_interval": "seconds",
    "plex_connect_timeout": "seconds",
    "plex_read_timeout": "seconds",
    "recovery_timeout": "seconds",
    "dlq_retention_days": "days",
}


class SettingError(ValueError):
    """A value the setting cannot take; the text names the setting and what it accepts."""


def settable() -> list[str]:
    return [name for name in PlexSyncConfig.model_fields if name not in NOT_SETTABLE]


def parse_setting(key: str, values: list[str]) -> object:
    """The typed value for `key` from its command-line words (a list takes several)."""
    if key not in settable():
        raise SettingError(f"unknown setting {key!r}; the settings are: {', '.join(settable())}")
    kind = PlexSyncConfig.model_fields[key].annotation
    if key == "path_mappings":
        return _path_mappings(values)
    if key in ("plex_libraries", "tag_exclude", "tag_collections"):
        return _json_list(values) if _is_json(values) else list(values)
    if len(values) != 1:
        raise SettingError(f"{key} takes one value: {describe(key)}")
    return _scalar(key, kind, values[0])


def describe(key: str) -> str:
    """What `key` accepts, in words: "a number from 1 to 3600 (seconds)"."""
    info = PlexSyncConfig.model_fields[key]
    kind = info.annotation
    if kind is bool:
        return "true or false (also on/off, yes/no)"
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(str(v) for v in typing.get_args(kind))
    if kind in (int, float):
        low, high = _bounds(key)
        what = "a whole number" if kind is int else "a number"
        unit = f" ({UNITS[key]})" if key in UNITS else ""
        return f"{what} from {low} to {high}{unit}"
    if key == "path_mappings":
        return "STASH_PREFIX=PLEX_PREFIX pairs, e.g. /data=/media (none clears them)"
    if key == "plex_libraries":
        return "library titles (none means every movie library)"
    if key == "tag_exclude":
        return "tag names (none sends every tag)"
    if key == "tag_collections":
        return "tag names (none: no collections from tags)"
    if key.endswith("_url"):
        return "an http:// or https:// URL"
    return "a file path (empty for the system's CAs)" if key.endswith("_bundle") else "text"


def _bounds(key: str) -> tuple[Any, Any]:
    """The field's `ge`/`le` (pydantic keeps them as annotated-types metadata)."""
    metadata = PlexSyncConfig.model_fields[key].metadata
    low = next((m.ge for m in metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in metadata if hasattr(m, "le")), None)
    return low, high


def _scalar(key: str, kind: Any, text: str) -> object:
    if kind is bool:
        word = text.strip().lower()
        if word not in TRUE + FALSE:
            raise SettingError(f"{key} must be {describe(key)}, not {text!r}")
        return word in TRUE
    if typing.get_origin(kind) is Literal:
        if text not in typing.get_args(kind):
            raise SettingError(f"{key} must be {describe(key)}, not {text!r}")
        return text
    if kind in (int, float):
        return _number(key, kind, text)
    if isinstance(kind, types.UnionType) or kind is not str:
        raise SettingError(f"{key} cannot be set this way")
    return text


def _number(key: str, kind: type, text: str) -> int | float:
    try:
        value = kind(text.strip())
    except ValueError:
        raise SettingError(f"{key} must be {describe(key)}, not {text!r}") from None
    low, high = _bounds(key)
    if value != value or (low is not None and value < low) or (high is not None and value > high):
        raise SettingError(f"{key} must be {describe(key)}, not {text!r}")
    return typing.cast("int | float", value)


def _is_json(values: list[str]) -> bool:
    return len(values) == 1 and values[0].lstrip().startswith("[")


def _json_list(values: list[str]) -> list[Any]:
    try:
        data = json.loads(values[0])
    except ValueError as exc:
        raise SettingError(f"not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise SettingError("the JSON must be a list")
    return data


def _path_mappings(values: list[str]) -> list[PathMapping] | list[Any]:
    if _is_json(values):
        return _json_list(values)
    mappings = []
    for text in values:
        stash, sep, plex = text.partition("=")
        if not sep or not stash.strip() or not plex.strip():
            raise SettingError(
                f"path_mappings: {text!r} is not STASH_PREFIX=PLEX_PREFIX (e.g. /data=/media)"
            )
        mappings.append(PathMapping(stash_prefix=stash.strip(), plex_prefix=plex.strip()))
    return mappings
