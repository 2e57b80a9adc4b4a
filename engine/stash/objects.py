"""Stash's tags, performers and studios as the poll reads them, and the queries that read them.

A rename changes the object's `updated_at`, never its scenes' (stashapp/stash pkg/sqlite/tag.go;
`TagFilterType`, `PerformerFilterType` and `StudioFilterType` have `updated_at`, in
graphql/schema/types/filters.graphql). So objects are polled like scenes, by `updated_at`, and
the scenes that carry a renamed one are read by `SceneFilterType.tags`/`performers`/`studios`.
Presence (after a merge or delete) is one id-only listing of the kind (`ids_request`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from engine.errors import TransientError
from engine.stash.scene import PageQuery

logger = logging.getLogger(__name__)

OBJECT_KINDS = ("tag", "performer", "studio", "group")
# An upper bound above every RFC 3339 text, for "updated_at >= x" as BETWEEN (inclusive, text).
FAR_FUTURE = "9999-12-31T23:59:59Z"
IDS_PER_REQUEST = 200  # object ids in one criterion list


@dataclass(frozen=True)
class _Kind:
    query: str  # root field, e.g. findTags
    filter_arg: str  # its filter argument
    filter_type: str
    items: str  # the list field of its result
    scene_filter: str  # the SceneFilterType criterion that finds scenes carrying it
    hierarchical: bool  # HierarchicalMultiCriterionInput (takes `depth`) or MultiCriterionInput
    # How far down the hierarchy carrying scenes are read. A scene shows its studio's parent
    # (`parent_studio`) and its tags' parents (for `tag_exclude_children`), so a rename reaches
    # the scenes of child studios and sub-tags too (-1: every level,
    # pkg/sqlite/criterion_handlers.go); only what changed is queued.
    depth: int = 0


KINDS: dict[str, _Kind] = {
    "tag": _Kind("findTags", "tag_filter", "TagFilterType", "tags", "tags", True, depth=-1),
    "performer": _Kind(
        "findPerformers",
        "performer_filter",
        "PerformerFilterType",
        "performers",
        "performers",
        False,
    ),
    "studio": _Kind(
        "findStudios", "studio_filter", "StudioFilterType", "studios", "studios", True, depth=-1
    ),
    # Groups (movies before Stash 0.27): `findGroups`, `SceneFilterType.groups`
    # (graphql/schema/types/filters.graphql, a HierarchicalMultiCriterionInput).
    "group": _Kind("findGroups", "group_filter", "GroupFilterType", "groups", "groups", True),
    # Not polled on its own: a tag as its performers carry it (`SceneFilterType.performer_tags`),
    # so a tag's rename also reaches scenes that show it through a performer.
    "performer_tag": _Kind(
        "findTags", "tag_filter", "TagFilterType", "tags", "performer_tags", True
    ),
}


class _ObjectModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    id: StrictStr | StrictInt
    name: StrictStr
    updated_at: StrictStr


@dataclass(frozen=True)
class StashObject:
    kind: str
    id: str
    name: str
    updated_at: str


@dataclass(frozen=True)
class ObjectPage:
    """One page of an object poll (the keyset poll's page shape) and Stash's total count."""

    objects: tuple[StashObject, ...]
    rows: int
    keys: tuple[tuple[str, str], ...]  # (id, updated_at) in Stash's order
    total: int  # live objects of the kind in Stash


def object_page_request(kind: str, query: PageQuery) -> tuple[str, dict[str, Any]]:
    """`find<Kind>s` for a keyset poll, with the kind's total count in the same request.

    Tags, performers and studios cannot be filtered by id, so a timestamp shared by a page or
    more of them is read whole (`per_page: -1`) rather than by id within it.
    """
    spec = KINDS[kind]
    object_filter: dict[str, Any] = {}
    per_page = query.size
    if query.group_after_id is not None and query.after is not None:
        object_filter["updated_at"] = {"value": query.after, "modifier": "EQUALS"}
        per_page = -1
    elif query.after is not None and query.inclusive:
        # BETWEEN is inclusive and compares text (stashapp/stash pkg/sqlite/sql.go).
        object_filter["updated_at"] = {
            "value": query.after,
            "value2": FAR_FUTURE,
            "modifier": "BETWEEN",
        }
    elif query.after is not None:
        object_filter["updated_at"] = {"value": query.after, "modifier": "GREATER_THAN"}
    text = (
        f"query Find{spec.items.title()}Page($filter: FindFilterType,"
        f" $object_filter: {spec.filter_type}) {{"
        f" page: {spec.query}(filter: $filter, {spec.filter_arg}: $object_filter)"
        f" {{ {spec.items} {{ id name updated_at }} }}"
        f" total: {spec.query}(filter: {{per_page: 0}}) {{ count }} }}"
    )
    variables = {
        "filter": {"page": 1, "per_page": per_page, "sort": "updated_at", "direction": "ASC"},
        "object_filter": object_filter,
    }
    return text, variables


def ids_request(kind: str) -> tuple[str, dict[str, Any]]:
    """Every id of `kind` Stash has, in one answer: the presence sweep's one request.

    Measured against a real Stash (bench/stash_presence_bench.py; README, "Renames, merges and
    deletes"): for 10,000 tags one listing takes 1 request and 0.36 s, aliased `findTag(id:)`
    lookups 50 requests and 1.0 s. `find<Kind>s(ids:)` cannot be used: it fails the whole query on
    the first missing id ("tag with id 123 not found", stashapp/stash pkg/sqlite/tag.go
    `FindMany`). One page (`per_page: -1`) rather than several: the kinds have no id criterion to
    keyset on, and offset pages shift when an object is deleted between them, which would make
    a present object look gone.
    """
    spec = KINDS[kind]
    text = (
        f"query All{spec.items.title()}Ids($filter: FindFilterType) {{"
        f" {spec.query}(filter: $filter) {{ {spec.items} {{ id }} }} }}"
    )
    return text, {"filter": {"per_page": -1, "sort": "id", "direction": "ASC"}}


def carrying_filter(kind: str, ids: list[str]) -> dict[str, Any]:
    """The `SceneFilterType` criterion for scenes that carry any of `ids` (no sub-tags; a
    studio's child studios too)."""
    spec = KINDS[kind]
    criterion: dict[str, Any] = {"value": ids, "modifier": "INCLUDES"}
    if spec.hierarchical:
        criterion["depth"] = spec.depth
    return {spec.scene_filter: criterion}


def parse_object_page(kind: str, data: dict[str, Any]) -> ObjectPage:
    spec = KINDS[kind]
    try:
        raw = list(data["page"][spec.items] or [])
        total = int(data["total"]["count"])
    except (KeyError, TypeError, ValueError) as exc:
        raise TransientError("Stash sent a broken answer", f"no {spec.query}") from exc
    objects = []
    for item in raw:
        try:
            model = _ObjectModel.model_validate(item)
        except ValidationError:
            # Its name cannot reach Plex anyway; the rest of the page stands.
            logger.warning("Stash sent a malformed %s; it is skipped", kind)
            continue
        objects.append(StashObject(kind, str(model.id), model.name.strip(), model.updated_at))
    keys = tuple((o.id, o.updated_at) for o in objects)
    return ObjectPage(tuple(objects), len(raw), keys, total)


def parse_ids(kind: str, data: dict[str, Any]) -> set[str]:
    """The ids in `ids_request(kind)`'s answer."""
    spec = KINDS[kind]
    try:
        return {str(item["id"]) for item in data[spec.query][spec.items] or []}
    except (KeyError, TypeError) as exc:
        raise TransientError("Stash sent a broken answer", f"no {spec.query}") from exc
