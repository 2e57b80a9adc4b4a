"""Which fields of a Plex item differ from what Stash wants: the check's side of `plan_edit`.

A field counts as drifted exactly when a push would change it in Plex: a scalar whose Plex value
is not the desired one, or a tag kind where one of the scene's tags is missing or one we wrote
that Stash dropped is still there (tags the user added in Plex are theirs and never count).
With `preserve_plex_edits` a normal push leaves a non-empty Plex field alone; such a field is
reported as `kept` (not overwritten unless the user chooses Fix).

Listings truncate tag lists (see `engine/plan/desired.py`), so from a listing a missing tag may
just be hidden: that kind is `undecided`, and only the full item, a listing that shows fewer
tags than Plex's cut (`plex_model.LISTING_CUTS`), or proof that Plex did not change the item since a
moment it was known to be right, can settle it. Collections have no such proof: Plex edits them
from the collection's side without moving the item's `updatedAt`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.config.file import PlexSyncConfig
from engine.plan.desired import (
    NO_RATING,
    SCALARS,
    TAG_LISTS,
    current_scalar,
    desired_state,
    nothing_to_clear,
    plan_rating,
)
from engine.plex.model import PlexItem

# Field names as the check reports them (Plex's own names, as in the PUT parameters).
FIELD_ORDER = (*SCALARS, *(k for k, _a in TAG_LISTS), "userRating")


@dataclass
class Comparison:
    """The result of comparing one item with one scene's desired state."""

    fields: list[str] = field(default_factory=list)  # differ, and a normal push would fix them
    kept: list[str] = field(default_factory=list)  # differ, but preserve_plex_edits keeps them
    undecided: list[str] = field(default_factory=list)  # tag kinds a listing cannot settle

    @property
    def drifted(self) -> bool:
        return bool(self.fields or self.kept)


def _names(state: dict[str, Any] | None, kind: str) -> list[str]:
    value = (state or {}).get(kind)
    if isinstance(value, str):
        return [value] if value else []
    return [str(name) for name in value or []]


def tags_differ(
    wanted: Sequence[str], ours_before: Sequence[str], current: Sequence[str], *, complete: bool
) -> bool | None:
    """True/False when the tags settle it, None when a truncated listing cannot tell."""
    wanted_folded = {name.casefold() for name in wanted}
    stale = [name for name in ours_before if name.casefold() not in wanted_folded]
    present = {name.casefold() for name in current}
    if any(name.casefold() in present for name in stale):
        return True
    missing = any(name.casefold() not in present for name in wanted)
    if complete:
        return missing
    return None if missing or stale else False


def compare(
    payload: dict[str, Any],
    item: PlexItem,
    config: PlexSyncConfig,
    *,
    previous: dict[str, Any] | None,
) -> Comparison:
    """Compare `item` (a listing or the full item) with the scene's desired state."""
    want = desired_state(payload, config)
    keep_plex = config.preserve_plex_edits
    result = Comparison()
    for name in SCALARS:
        value, current = want.get(name), current_scalar(item, name)
        if value is None or current == value or nothing_to_clear(name, value, previous):
            continue
        (result.kept if keep_plex and current else result.fields).append(name)
    for kind, attr in TAG_LISTS:
        if want.get(kind) is None:
            continue
        tags: tuple[str, ...] = getattr(item, attr)
        differs = tags_differ(
            _names(want, kind), _names(previous, kind), tags, complete=item.listed_whole(kind)
        )
        if differs is None:
            result.undecided.append(kind)
        elif differs:
            (result.kept if keep_plex and tags else result.fields).append(kind)
    if plan_rating(want, item, previous, config) is not None:
        result.fields.append("userRating")
    elif (
        keep_plex
        and want.get("userRating") not in (None, NO_RATING)
        and item.user_rating is not None
        and item.user_rating != want["userRating"]
    ):
        result.kept.append("userRating")  # the user's own Plex rating, kept
    return result


def settled_by_our_write(
    payload: dict[str, Any], config: PlexSyncConfig, previous: dict[str, Any] | None, kind: str
) -> bool:
    """Our last write set this tag kind to what Stash still wants (so, unchanged since, it is
    right). Not with preserve_plex_edits: that write may have left a non-empty list alone."""
    if previous is None or config.preserve_plex_edits:
        return False
    want = desired_state(payload, config)[kind]
    return want is not None and [n.casefold() for n in _names(previous, kind)] == [
        n.casefold() for n in _names({kind: want}, kind)
    ]
