"""From a Stash scene to one Plex edit: the desired state, and the PUT parameters that reach it.

Stash is authoritative for what we wrote: an empty Stash value clears the Plex field (the title is
never cleared), and a tag or performer we wrote that Stash no longer has is removed from Plex.
A genre, actor or collection the user made in Plex, which we never wrote, is never removed.

Real Plex truncates tag lists in listings (collections after 2, genres and actors too) and an
indexed `kind[i].tag.tag` PUT replaces the item's whole list (python-plexapi
`plexapi/mixins/edit.py` `editTags` reloads the full item first for this reason). So:
removing only uses the `-=` form naming just our stale tags (what plexapi's `removeCollection`
sends: `EditTagsMixin._tagHelper` with remove=True, `plexapi/mixins.py` around line 916 in 4.16),
and adding builds the indexed list from the FULL item (GET /library/metadata/{rk}): every tag it
has, minus our stale ones, plus ours. There is no form that adds without listing every tag
(plexapi's `editTags` sends the existing tags plus the new ones, indexed), so an addition is
planned only against a list known whole: a full read, or genres and actors remembered from our
own write while Plex's `updatedAt` proves them unchanged. A collection list is never rebuilt
from memory: Plex edits collections from the collection's side without moving `updatedAt`
(`PUT /library/collections/{id}/items`, plexapi `Collection.addItems`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, unquote

from engine.config.file import PlexSyncConfig
from engine.plex.model import TEXT_FIELDS, PlexItem

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Characters XML 1.0 cannot carry (Plex answers in XML, so it cannot store them); tab, newline
# and carriage return are allowed. Everything else, zero-width joiners included, is sent as is.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

# The Plex scalar fields one edit may set (`{field}.value`, plexapi `plexapi/mixins/edit.py`).
SCALARS = ("title", "studio", "summary", "originallyAvailableAt", *TEXT_FIELDS, "addedAt")
# (plex tag kind, PlexItem attribute)
TAG_LISTS = (
    ("actor", "actors"),
    ("genre", "genres"),
    ("collection", "collections"),
    ("director", "directors"),
    ("label", "labels"),
)
NO_RATING = -1.0  # what plexapi's `rate(None)` sends to clear a rating (`mixins/rating.py`)


def clean_text(value: str, notes: list[str] | None = None, what: str = "a value") -> str:
    """The text as Stash has it, minus only what Plex cannot store (noted), ends trimmed."""
    kept = _NOT_XML.sub("", value)
    removed = len(value) - len(kept)
    if removed and notes is not None:
        notes.append(f"{removed} control character(s) Plex cannot store left out of {what}")
    return kept.strip()


def clean_list(
    values: Iterable[Any], notes: list[str] | None = None, what: str = "tags"
) -> list[str]:
    """Tag names as Stash has them; empty ones dropped, case duplicates (one tag to Plex) merged."""
    seen: set[str] = set()
    result = []
    for raw in values:
        name = clean_text(str(raw), notes, what)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
    return result


def clean_date(value: str) -> str:
    match = DATE.match(value.strip())
    return match.group(0) if match else ""


@dataclass
class EditPlan:
    """The state we want in Plex and the parameters of the one PUT that gets there."""

    state: dict[str, Any]
    params: dict[str, str] = field(default_factory=dict)
    needs_full_item: bool = False  # adding a tag needs every current tag name (listings truncate)
    notes: list[str] = field(default_factory=list)  # what Plex could not take as Stash has it


def desired_state(
    payload: dict[str, Any], config: PlexSyncConfig, notes: list[str] | None = None
) -> dict[str, Any]:
    """What Plex should show for a scene, per the field toggles (None = not ours to manage)."""
    title = clean_text(str(payload.get("title") or ""), notes, "the title")
    studio = clean_text(str(payload.get("studio") or ""), notes, "the studio")
    parent = clean_text(str(payload.get("parent_studio") or ""), notes, "the parent studio")
    summary = str(payload.get("details") or "").replace("\r\n", "\n")
    date = clean_date(str(payload.get("date") or ""))
    excluded = {name.casefold() for name in config.tag_exclude}
    raw_tags = list(payload.get("tags") or [])
    if config.performer_tags_as_genres:
        raw_tags += list(payload.get("performer_tags") or [])  # merged: one tag to Plex once
    above = payload.get("tag_parents") or {}

    def kept(name: str) -> bool:
        if name.casefold() in excluded:
            return False
        ancestors = above.get(name, ()) if config.tag_exclude_children else ()
        return not any(str(a).casefold() in excluded for a in ancestors)

    tags = [name for name in clean_list(raw_tags, notes, "the tags") if kept(name)]
    director = clean_text(str(payload.get("director") or ""), notes, "the director")
    groups = clean_list(payload.get("groups") or [], notes, "the groups")
    state: dict[str, Any] = {
        "title": title if config.sync_title and title else None,
        "studio": (parent if config.parent_studio_as_studio and parent else studio)
        if config.sync_studio
        else None,
        "summary": clean_text(summary, notes, "the summary") if config.sync_summary else None,
        "originallyAvailableAt": date if config.sync_date else None,
        "actor": (
            clean_list(payload.get("performers") or [], notes, "the performers")
            if config.sync_performers
            else None
        ),
        # Tags not chosen for a kind are wanted as none: only tags we wrote there are removed.
        "genre": (tags if config.tags_as != "labels" else []) if config.sync_tags else None,
        "label": (tags if config.tags_as != "genres" else []) if config.sync_tags else None,
        "collection": _collections(studio, parent, tags, groups, config),
        "_groups": groups if config.sync_groups else None,  # for finding a vanished group's
        "director": ([director] if director else []) if config.sync_director else None,
        "contentRating": config.content_rating or None,
        "titleSort": sort_title(date, title) if config.sync_sort_title and title else None,
        "addedAt": added_at(payload.get("created_at")) if config.sync_added_at else None,
        "userRating": plex_rating(payload.get("rating100")) if config.sync_rating else None,
    }
    code = clean_text(str(payload.get("code") or ""), notes, "the studio code")
    for name in ("tagline", "originalTitle", "editionTitle"):
        state[name] = code if config.code_field == name else None
    return state


def _collections(
    studio: str, parent: str, tags: list[str], groups: list[str], config: PlexSyncConfig
) -> Any:
    """The studio's collection, its parent's ("Parent" or "Parent / Child"), the groups'
    (`group_collection_prefix` + name) and the chosen tags' (`tag_collections`). Only the
    studio: its name as a string, as states have always held it, so an upgrade re-sends
    nothing."""
    chosen = {name.casefold() for name in config.tag_collections}
    extra = [name for name in tags if name.casefold() in chosen]
    if config.sync_groups:
        extra = [f"{config.group_collection_prefix}{name}" for name in groups] + extra
    mode = config.parent_studio_collection
    if parent and mode != "off":
        extra.insert(0, parent if mode == "parent" or not studio else f"{parent} / {studio}")
    if extra:
        return ([studio] if config.sync_collection and studio else []) + extra
    if config.sync_collection:
        return studio
    managed = config.tag_collections or mode != "off" or config.sync_groups
    return [] if managed else None  # managed: the extra collections we made go


def plex_rating(rating100: Any) -> float:
    """Stash's 0-100 as Plex's 0-10 in whole steps (a Plex step is half a star, as its clients
    show it: plexapi `Video.userRating` "0.0 - 10.0 equaling 0 stars - 5 stars"); unrated is
    `NO_RATING`."""
    if not isinstance(rating100, int) or isinstance(rating100, bool) or not 0 <= rating100 <= 100:
        return NO_RATING
    return float(math.floor(rating100 / 10 + 0.5))


def sort_title(date: str, title: str) -> str:
    """The date, then the title: Plex's title order becomes date order."""
    return f"{date} {title}" if date else title


def added_at(created_at: Any) -> str | None:
    """Stash's `created_at` (RFC 3339) as the epoch seconds Plex's `addedAt.value` takes
    (plexapi `AddedAtMixin.editAddedAt` sends an int); None if it cannot be read."""
    try:
        moment = dt.datetime.fromisoformat(str(created_at).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return str(int(moment.timestamp()))


Wanted = tuple[dict[str, Any], tuple[str, ...]]


def wanted_state(payload: dict[str, Any], config: PlexSyncConfig) -> Wanted:
    """`desired_state` and the notes made on the way (do not modify the state)."""
    notes: list[str] = []
    return desired_state(payload, config, notes), tuple(notes)


def _names(state: dict[str, Any] | None, kind: str) -> list[str]:
    """The tags of `kind` that a state says we wrote (the collection is the studio's name)."""
    value = (state or {}).get(kind)
    if isinstance(value, str):
        return [value] if value else []
    return [str(name) for name in value or []]


def plan_edit(
    payload: dict[str, Any],
    item: PlexItem,
    config: PlexSyncConfig,
    *,
    previous: dict[str, Any] | None,
    wanted: Wanted | None = None,
) -> EditPlan:
    """The PUT parameters that move `item` to the scene's desired state.

    `previous` is the state we last pushed for this scene: the tags in it are the ones we wrote,
    the only ones we may remove. `wanted` is `wanted_state(payload, config)` if already known
    (a scene is planned against the listing's item, then again against the full one).
    """
    want, found = wanted or wanted_state(payload, config)
    notes = list(found)
    plan = EditPlan(state={**want, "rating_key": item.rating_key}, notes=notes)
    keep_plex = config.preserve_plex_edits
    managed: list[str] = []

    for plex_field in SCALARS:
        value = want.get(plex_field)
        if value is None or (keep_plex and current_scalar(item, plex_field)):
            continue
        if nothing_to_clear(plex_field, value, previous):
            continue
        plan.params[f"{plex_field}.value"] = value
        managed.append(plex_field)

    for kind, attr in TAG_LISTS:
        current: tuple[str, ...] = getattr(item, attr)
        if want.get(kind) is None or (keep_plex and current):
            continue
        names, ours_before = _names(want, kind), _names(previous, kind)
        if not names and not ours_before and kind in OPTIONAL_KINDS:
            continue  # nothing to add and nothing of ours to remove: no edit, no lock
        managed.append(kind)
        _plan_tags(plan, kind, names, ours_before, item, current)

    if plan.params:
        # plexapi always sends `.locked` (1 or 0); omitting it would leave an old lock in place.
        lock = "1" if config.lock_synced_fields else "0"
        plan.params.update({f"{name}.locked": lock for name in managed})
    return plan


# Scalars added after the first release: empty in Stash clears only what we wrote.
OPTIONAL_SCALARS = frozenset({*TEXT_FIELDS, "addedAt"})
# Tag kinds left alone (not locked) while we want none and nothing of ours is there: the
# newer kinds, so a user who never wanted them sees no change, and collections, which now
# also come from groups, tags and the studio's parent.
OPTIONAL_KINDS = frozenset({"director", "label", "collection"})
NEWER_FIELDS = OPTIONAL_SCALARS | OPTIONAL_KINDS


def nothing_to_clear(plex_field: str, value: Any, previous: dict[str, Any] | None) -> bool:
    """A newer field that Stash has empty and we never wrote: Plex's own value stays."""
    return value == "" and plex_field in OPTIONAL_SCALARS and not (previous or {}).get(plex_field)


def current_scalar(item: PlexItem, plex_field: str) -> str:
    """What Plex holds in a scalar field, as an edit would write it."""
    if plex_field == "title":
        return item.title
    if plex_field == "studio":
        return item.studio
    if plex_field == "summary":
        return item.summary
    if plex_field == "originallyAvailableAt":
        return item.originally_available_at[:10]
    if plex_field == "addedAt":
        return str(item.added_at) if item.added_at else ""
    return item.text(plex_field)


def plan_rating(
    want: dict[str, Any], item: PlexItem, previous: dict[str, Any] | None, config: PlexSyncConfig
) -> float | None:
    """The rating to send with Plex's rate call (`NO_RATING` clears it), or None for no call.

    A rating the scene never had from us is left alone when Stash has none (a user's own Plex
    rating stays); one we wrote that Stash removed is removed. With `preserve_plex_edits`, a
    rating Plex already has is kept."""
    wanted = want.get("userRating")
    if wanted is None:
        return None
    if wanted == NO_RATING:
        ours = (previous or {}).get("userRating")
        wrote_one = isinstance(ours, int | float) and ours != NO_RATING
        return NO_RATING if wrote_one and item.user_rating is not None else None
    if item.user_rating is not None and float(item.user_rating) == float(wanted):
        return None
    if config.preserve_plex_edits and item.user_rating is not None:
        return None
    return float(wanted)


def _plan_tags(
    plan: EditPlan,
    kind: str,
    wanted: list[str],
    ours_before: list[str],
    item: PlexItem,
    current: Sequence[str],
) -> None:
    """Add `wanted`, remove the tags we wrote that are no longer wanted, keep everything else."""
    wanted_folded = {name.casefold() for name in wanted}
    stale = [name for name in ours_before if name.casefold() not in wanted_folded]
    present = {name.casefold() for name in current}
    whole = item.whole(kind)
    if all(name.casefold() in present for name in wanted):
        if stale and (not whole or any(n.casefold() in present for n in stale)):
            plan.params[f"{kind}[].tag.tag-"] = removal_value(stale)
        return
    if not whole:
        # A listing may hide tags the indexed list would drop, and remembered collections may
        # have changed from the collection's side: only the full item, read now, will do.
        plan.needs_full_item = True
        return
    dropped = wanted_folded | {name.casefold() for name in stale}
    final = [name for name in current if name.casefold() not in dropped] + wanted
    for index, name in enumerate(final):
        plan.params[f"{kind}[{index}].tag.tag"] = name


def removal_value(names: Iterable[str]) -> str:
    """plexapi's encoding of a `-=` removal: each name %-encoded, then joined by commas."""
    return ",".join(quote(name, safe="") for name in names)


_SCALAR_ATTRS = {
    "title": "title",
    "studio": "studio",
    "summary": "summary",
    "originallyAvailableAt": "originally_available_at",
}
_LIST_ATTRS = dict(TAG_LISTS)


def apply_params(item: PlexItem, params: dict[str, str]) -> PlexItem:
    """The item as Plex holds it after a successful edit with `params` (keeps the index true)."""
    changes: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    texts = dict(item.texts)
    for key, value in params.items():
        name, _, rest = key.partition(".")
        if rest == "value" and name in _SCALAR_ATTRS:
            changes[_SCALAR_ATTRS[name]] = value
        elif rest == "value" and name in TEXT_FIELDS:
            texts[name] = value
        elif rest == "value" and name == "addedAt" and value.isdigit():
            changes["added_at"] = int(value)
        elif "[" in name:
            kind, _, index = name.partition("[")
            if kind not in _LIST_ATTRS:
                continue
            if index == "]":
                gone = {unquote(piece).casefold() for piece in value.split(",")}
                kept = getattr(item, _LIST_ATTRS[kind])
                lists[kind] = [tag for tag in kept if tag.casefold() not in gone]
            else:
                lists.setdefault(kind, []).append(value)
    for kind, names in lists.items():
        changes[_LIST_ATTRS[kind]] = tuple(names)
    changes["texts"] = tuple((name, value) for name, value in texts.items() if value)
    return replace(item, **changes)
