"""Parse and apply ``PUT /library/sections/{id}/all?id=..&type=1&<edits>`` like Plex does.

Accepted edit parameters (anything else is rejected with 400, so typos fail tests):

* ``<field>.value`` for the fields in ``VALUE_FIELDS`` (empty clears the field);
* ``<name>.locked`` = 1/0 for those fields, the tag kinds and ``thumb``/``art``/``theme``;
* ``<kind>[i].tag.tag``: an indexed list REPLACES the movie's list of that kind (Plex treats
  the indexed list as the complete new list); ``<kind>[i].tagging.text`` and
  ``<kind>[i].tag.thumb`` are accepted and ignored;
* ``<kind>[].tag.tag-`` removes tags: the value is quoted twice by plexapi, so the decoded value
  is split on ``,`` and each piece is decoded again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

from plexsync_sim.http_base import SimError
from plexsync_sim.plex.library import TAG_ELEMENTS, VALUE_FIELDS, PlexMovie

LOCK_ONLY = frozenset({"thumb", "art", "theme"})
LOCKABLE = frozenset(VALUE_FIELDS) | frozenset(TAG_ELEMENTS) | LOCK_ONLY
_INDEXED = re.compile(r"^(\w+)\[(\d+)\]\.(tag\.tag|tagging\.text|tag\.thumb|tag\.id)$")
_REMOVE = re.compile(r"^(\w+)\[\]\.tag\.tag-$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"1", "true"}
_FALSE = {"0", "false"}


@dataclass
class EditPlan:
    ids: list[int]
    values: dict[str, str] = field(default_factory=dict)
    locks: dict[str, bool] = field(default_factory=dict)
    replace: dict[str, dict[int, str]] = field(default_factory=dict)
    remove: dict[str, list[str]] = field(default_factory=dict)


def _parse_ids(raw: str | None) -> list[int]:
    if not raw:
        raise SimError(400, "missing id parameter")
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise SimError(400, f"invalid id list {raw!r}") from exc


def _check_value(name: str, value: str) -> None:
    if name == "originallyAvailableAt" and value and not _DATE.match(value):
        raise SimError(400, "originallyAvailableAt must be YYYY-MM-DD")
    if name == "userRating" and value:
        try:
            float(value)
        except ValueError as exc:
            raise SimError(400, "userRating must be a number") from exc
    if name == "addedAt" and not value.isdigit():
        raise SimError(400, "addedAt must be epoch seconds")
    if name == "title" and not value.strip():
        raise SimError(400, "title cannot be empty")


def _parse_lock(name: str, value: str) -> bool:
    if name not in LOCKABLE:
        raise SimError(400, f"unknown edit field {name!r}")
    flag = value.strip().lower()
    if flag not in _TRUE | _FALSE:
        raise SimError(400, f"{name}.locked must be 0 or 1")
    return flag in _TRUE


def _parse_param(plan: EditPlan, key: str, value: str) -> None:
    if key.endswith(".value"):
        name = key[: -len(".value")]
        if name not in VALUE_FIELDS:
            raise SimError(400, f"unknown edit field {name!r}")
        _check_value(name, value)
        plan.values[name] = value
    elif key.endswith(".locked"):
        name = key[: -len(".locked")]
        plan.locks[name] = _parse_lock(name, value)
    elif indexed := _INDEXED.match(key):
        kind, index, part = indexed.group(1), int(indexed.group(2)), indexed.group(3)
        if kind not in TAG_ELEMENTS:
            raise SimError(400, f"unknown tag kind {kind!r}")
        if part == "tag.tag":
            plan.replace.setdefault(kind, {})[index] = value
    elif removal := _REMOVE.match(key):
        kind = removal.group(1)
        if kind not in TAG_ELEMENTS:
            raise SimError(400, f"unknown tag kind {kind!r}")
        pieces = [unquote(piece) for piece in value.split(",") if piece]
        plan.remove.setdefault(kind, []).extend(pieces)
    else:
        raise SimError(400, f"unknown edit parameter {key!r}")


def parse_edit(query: str) -> EditPlan:
    params = parse_qsl(query, keep_blank_values=True)
    ids = [value for key, value in params if key == "id"]
    plan = EditPlan(ids=_parse_ids(ids[0] if ids else None))
    for key, value in params:
        if key == "id" or key.startswith("X-Plex-"):
            continue
        if key == "type":
            if value not in ("1", "movie"):
                raise SimError(400, f"type {value!r} is not the movie type (1)")
            continue
        _parse_param(plan, key, value)
    return plan


def _dedupe(tags: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for tag in tags:
        folded = tag.strip().casefold()
        if folded and folded not in seen:
            seen.add(folded)
            result.append(tag.strip())
    return result


def apply_edit(movie: PlexMovie, plan: EditPlan, now: int) -> None:
    for name, value in plan.values.items():
        if name == "addedAt":
            movie.added_at = int(value)
        elif value:
            movie.fields[name] = value
        else:
            movie.fields.pop(name, None)
    for kind, indexed in plan.replace.items():
        movie.tags[kind] = _dedupe([indexed[i] for i in sorted(indexed)])
    for kind, removed in plan.remove.items():
        gone = {tag.casefold() for tag in removed}
        movie.tags[kind] = [tag for tag in movie.tags.get(kind, []) if tag.casefold() not in gone]
    for name, locked in plan.locks.items():
        if locked:
            movie.locked.add(name)
        else:
            movie.locked.discard(name)
    movie.updated_at = max(now, movie.updated_at)
