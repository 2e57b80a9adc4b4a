"""From a Stash scene to one Plex edit: the desired state, and the PUT parameters that reach it.

Stash is authoritative: an empty Stash value clears the Plex field (the title is never cleared),
and tag lists are sent complete, so a removed tag or performer is removed in Plex. Indexed tag
lists replace the item's list; an empty list is cleared with the `-=` form, naming every current
tag, which is why clearing needs the full item (listings truncate tags).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from engine.config import PlexSyncConfig
from engine.plex_model import PlexItem

TITLE_MAX = 255
SUMMARY_MAX = 10000
TAG_MAX = 255
LIST_MAX = 100
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")

# (plex scalar field, payload key, toggle)
SCALARS = (
    ("title", "title", "sync_title"),
    ("studio", "studio", "sync_studio"),
    ("summary", "details", "sync_summary"),
    ("originallyAvailableAt", "date", "sync_date"),
)
# (plex tag kind, payload key, toggle, PlexItem attribute)
TAG_LISTS = (
    ("actor", "performers", "sync_performers", "actors"),
    ("genre", "tags", "sync_tags", "genres"),
)


def clean_text(value: str, limit: int, *, multiline: bool = False) -> str:
    """NFC, no control or format characters (newlines kept in summaries), trimmed to `limit`."""
    value = unicodedata.normalize("NFC", value)
    kept = []
    for char in value:
        category = unicodedata.category(char)
        if char in "\n\t" and multiline:
            kept.append(char)
        elif category in ("Cc", "Cf"):
            kept.append(" " if char in "\r\n\t" else "")
        else:
            kept.append(char)
    text = "".join(kept)
    text = text.replace("\r", "") if multiline else re.sub(r"\s+", " ", text)
    text = text.strip()
    if len(text) > limit:
        cut = text[:limit]
        space = cut.rfind(" ")
        text = cut[:space] if space > limit * 0.8 else cut
    return text.rstrip()


def clean_list(values: list[Any]) -> list[str]:
    """Tag names cleaned, empty ones dropped, duplicates (ignoring case) removed, order kept."""
    seen: set[str] = set()
    result = []
    for raw in values:
        name = clean_text(str(raw), TAG_MAX)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
    return result[:LIST_MAX]


def clean_date(value: str) -> str:
    match = DATE.match(value.strip())
    return match.group(0) if match else ""


@dataclass
class EditPlan:
    """The state we want in Plex and the parameters of the one PUT that gets there."""

    state: dict[str, Any]
    params: dict[str, str] = field(default_factory=dict)
    needs_full_item: bool = False  # clearing a tag list needs every current tag name


def desired_state(payload: dict[str, Any], config: PlexSyncConfig) -> dict[str, Any]:
    """What Plex should show for a scene, per the field toggles (None = not ours to manage)."""
    title = clean_text(str(payload.get("title") or ""), TITLE_MAX)
    studio = clean_text(str(payload.get("studio") or ""), TITLE_MAX)
    state: dict[str, Any] = {
        "title": title if config.sync_title and title else None,
        "studio": studio if config.sync_studio else None,
        "summary": (
            clean_text(str(payload.get("details") or ""), SUMMARY_MAX, multiline=True)
            if config.sync_summary
            else None
        ),
        "originallyAvailableAt": (
            clean_date(str(payload.get("date") or "")) if config.sync_date else None
        ),
        "actor": clean_list(payload.get("performers") or []) if config.sync_performers else None,
        "genre": clean_list(payload.get("tags") or []) if config.sync_tags else None,
        "collection": studio if config.sync_collection else None,
    }
    return state


def plan_edit(
    payload: dict[str, Any],
    item: PlexItem,
    config: PlexSyncConfig,
    *,
    previous: dict[str, Any] | None,
) -> EditPlan:
    """The PUT parameters that move `item` to the scene's desired state.

    `previous` is the state we last pushed for this scene (its studio collection is replaced
    when the studio changes; collections the user made are kept).
    """
    want = desired_state(payload, config)
    plan = EditPlan(state={**want, "rating_key": item.rating_key})
    lock = config.lock_synced_fields
    keep_plex = config.preserve_plex_edits

    current_scalars = {
        "title": item.title,
        "studio": item.studio,
        "summary": item.summary,
        "originallyAvailableAt": item.originally_available_at[:10],
    }
    for plex_field, _key, _toggle in SCALARS:
        value = want[plex_field]
        if value is None or (keep_plex and current_scalars[plex_field]):
            continue
        plan.params[f"{plex_field}.value"] = value
        if lock:
            plan.params[f"{plex_field}.locked"] = "1"

    for kind, _key, _toggle, attr in TAG_LISTS:
        names = want[kind]
        current: tuple[str, ...] = getattr(item, attr)
        if names is None or (keep_plex and current):
            continue
        if names:
            for index, name in enumerate(names):
                plan.params[f"{kind}[{index}].tag.tag"] = name
        elif current:
            plan.params[f"{kind}[].tag.tag-"] = removal_value(current)
            plan.needs_full_item = True
        if lock:
            plan.params[f"{kind}.locked"] = "1"

    _plan_collection(plan, want["collection"], item, previous, lock)
    return plan


def _plan_collection(
    plan: EditPlan,
    studio: str | None,
    item: PlexItem,
    previous: dict[str, Any] | None,
    lock: bool,
) -> None:
    if studio is None:
        return
    old_studio = (previous or {}).get("collection") or ""
    others = [
        name for name in item.collections if name.casefold() not in {old_studio.casefold(), ""}
    ]
    if studio:
        others = [name for name in others if name.casefold() != studio.casefold()]
    wanted = [*others, studio] if studio else others
    if [n.casefold() for n in wanted] == [n.casefold() for n in item.collections]:
        return
    if wanted:
        for index, name in enumerate(wanted):
            plan.params[f"collection[{index}].tag.tag"] = name
    else:
        plan.params["collection[].tag.tag-"] = removal_value(item.collections)
    if lock:
        plan.params["collection.locked"] = "1"


def removal_value(names: tuple[str, ...]) -> str:
    """plexapi's encoding of a `-=` removal: each name %-encoded, then joined by commas."""
    return ",".join(quote(name, safe="") for name in names)


_SCALAR_ATTRS = {
    "title": "title",
    "studio": "studio",
    "summary": "summary",
    "originallyAvailableAt": "originally_available_at",
}
_LIST_ATTRS = {"actor": "actors", "genre": "genres", "collection": "collections"}


def apply_params(item: PlexItem, params: dict[str, str]) -> PlexItem:
    """The item as Plex holds it after a successful edit with `params` (keeps the index true)."""
    changes: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    for key, value in params.items():
        name, _, rest = key.partition(".")
        if rest == "value" and name in _SCALAR_ATTRS:
            changes[_SCALAR_ATTRS[name]] = value
        elif "[" in name:
            kind, _, index = name.partition("[")
            if kind not in _LIST_ATTRS:
                continue
            if index == "]":
                lists.setdefault(kind, [])
            else:
                lists.setdefault(kind, []).append(value)
    for kind, names in lists.items():
        changes[_LIST_ATTRS[kind]] = tuple(names)
    return replace(item, **changes)
