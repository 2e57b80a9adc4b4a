"""Tags, performers and studios in the Stash simulator: objects with ids, names and times.

Scenes hold object ids; the names a scene shows are read through this store, so a rename or a
merge reaches every scene that carries the object without touching the scenes, as in Stash:

- A rename (``tagUpdate``/``performerUpdate``/``studioUpdate``) sets the object's ``updated_at``
  to now (``models.NewTagPartial`` etc. stamp ``time.Now()``, stashapp/stash
  pkg/models/model_tag.go) and no scene's (nothing outside scene updates writes
  ``scenes.updated_at``; pkg/sqlite/tag.go).
- ``tagsMerge`` moves the source tags' scene joins to the destination and destroys the sources
  (pkg/sqlite/tag.go ``TagStore.Merge``); the destination keeps its ``updated_at`` (the merge is
  raw SQL, internal/api/resolver_mutation_tag.go ``TagsMerge``) and gains the sources' names
  as aliases. ``performerMerge`` does the same, but first applies ``values`` with
  ``UpdatePartial``, which stamps the destination's ``updated_at`` (resolver_mutation_performer.go
  ``PerformerMerge``, model_performer.go ``NewPerformerPartial``). Stash has no studio merge.
- Destroying an object drops its joins; the scenes keep their ``updated_at``.

Catalogue objects (every name the shared catalogue can draw) exist from the start, with
``created_at = updated_at = BASE_EPOCH``.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from graphql import GraphQLError

from plexsync_sim import catalog

KINDS = ("tag", "performer", "studio", "group")
_ID_SPACE = 9_000_000
_NEW_IDS_FROM = _ID_SPACE + 1_000  # above every catalogue id


def name_id(kind: str, name: str) -> int:
    """The stable id a catalogue name gets (the simulator's ids before objects had their own)."""
    return zlib.crc32(f"{kind}:{name.casefold()}".encode()) % _ID_SPACE + 1_000


@dataclass
class StashObject:
    kind: str
    id: int
    name: str
    created_at: int
    updated_at: int
    aliases: list[str] = field(default_factory=list)
    merged_into: int | None = None  # destroyed by a merge: its joins went there
    destroyed: bool = False
    parent: int | None = None  # studios only: the parent studio's id (`parent_studio`)
    synopsis: str | None = None  # groups only
    tags: list[int] = field(default_factory=list)  # performers only: the performer's tags
    parents: list[int] = field(default_factory=list)  # tags only: the parent tags' ids

    @property
    def live(self) -> bool:
        return not self.destroyed


def _catalogue_names(kind: str) -> list[str]:
    if kind == "tag":
        return list(catalog._TAGS)
    if kind == "studio":
        return list(catalog._STUDIOS)
    if kind == "group":
        return []  # the catalogue has no groups: tests make them
    return [f"{first} {last}" for first in catalog._FIRST_NAMES for last in catalog._LAST_NAMES]


class ObjectStore:
    """Every tag, performer and studio; callers hold the scene store's lock."""

    def __init__(self, *, now: Callable[[], float], tz: tzinfo | None) -> None:
        self._now = now
        self.tz = tz
        self._objects: dict[str, dict[int, StashObject]] = {kind: {} for kind in KINDS}
        for kind in KINDS:
            for name in _catalogue_names(kind):
                self._create(kind, name, catalog.BASE_EPOCH, catalogue=True)

    def _create(self, kind: str, name: str, stamp: int, *, catalogue: bool = False) -> StashObject:
        """A catalogue object gets its name's stable id; any other the next id above them all,
        as SQLite numbers rows (so objects made in a run sort by id in the order made)."""
        objects = self._objects[kind]
        if catalogue:
            new_id = name_id(kind, name)
            while new_id in objects:
                new_id += 1
        else:
            new_id = max([_NEW_IDS_FROM, *objects]) + 1
        created = StashObject(kind, new_id, name, stamp, stamp)
        objects[new_id] = created
        return created

    def create(self, kind: str, name: str, aliases: Iterable[str] = ()) -> StashObject:
        """``tagCreate``/``performerCreate``/``studioCreate``: a name no live object of the kind
        has (case-insensitive; Stash's pkg/tag/update.go ``EnsureTagNameUnique``,
        pkg/studio/validate.go, pkg/performer/validate.go give these messages)."""
        if not name.strip():
            raise ValueError("name must not be blank")
        self.ensure_unique(kind, name)
        created = self._create(kind, name, self._stamp())
        created.aliases = list(aliases)
        return created

    def ensure_unique(self, kind: str, name: str, own_id: int | None = None) -> None:
        folded = name.casefold()
        for other in self.all(kind):
            if other.id == own_id:
                continue
            if other.name.casefold() == folded:
                raise ValueError(f"{kind} with name '{name}' already exists")
            if kind == "tag" and folded in (a.casefold() for a in other.aliases):
                raise ValueError(f"name '{name}' is used as alias for '{other.name}'")

    def _stamp(self) -> int:
        return max(int(self._now()), catalog.BASE_EPOCH)

    def get(self, kind: str, object_id: int) -> StashObject | None:
        return self._objects[_kind(kind)].get(object_id)

    def all(self, kind: str) -> list[StashObject]:
        """Live objects of ``kind``."""
        return [o for o in self._objects[_kind(kind)].values() if o.live]

    def catalogue_id(self, kind: str, name: str) -> int:
        """The id of a catalogue name (its original object, whatever it is called now)."""
        return self.ref(kind, name, original=True)

    def ref(self, kind: str, name: str, *, original: bool = False) -> int:
        """The id of the live object called ``name`` (case-insensitive); created if none is.

        With ``original``, the catalogue object first named ``name`` (renamed or not).
        """
        if original:
            first = self._objects[kind].get(name_id(kind, name))
            if first is not None:
                return first.id
        folded = name.casefold()
        for obj in sorted(self.all(kind), key=lambda o: o.id):
            if obj.name.casefold() == folded:
                return obj.id
        return self._create(kind, name, self._stamp()).id

    def resolve(self, kind: str, ids: Iterable[int]) -> list[StashObject]:
        """The live objects these joins point at now: merges followed, destroyed ones dropped,
        each once (``UPDATE OR IGNORE`` then ``DELETE`` in Stash's merge leaves no duplicate)."""
        found: dict[int, StashObject] = {}
        for object_id in ids:
            obj = self._objects[kind].get(object_id)
            while obj is not None and obj.merged_into is not None:
                obj = self._objects[kind].get(obj.merged_into)
            if obj is not None and obj.live:
                found.setdefault(obj.id, obj)
        return list(found.values())

    def rename(self, kind: str, object_id: int, name: str) -> StashObject:
        obj = self._live(kind, object_id)
        if not name.strip():
            raise ValueError("a name cannot be empty")
        self.ensure_unique(kind, name, obj.id)
        obj.name = name
        obj.updated_at = self._stamp()
        return obj

    def set_parent(self, object_id: int, parent_id: int | None) -> StashObject:
        """A studio's parent (``parent_id`` of ``studioCreate``/``studioUpdate``). Stash refuses
        a parent that is the studio itself or one of its own children (pkg/studio/validate.go
        ``ErrStudioOwnAncestor``); a destroyed parent leaves its children without one (the
        migrations' ``parent_id ... on delete set null``, shown here as no live parent)."""
        obj = self._live("studio", object_id)
        if parent_id is not None:
            parent = self._live("studio", parent_id)
            ancestor: StashObject | None = parent
            while ancestor is not None:
                if ancestor.id == obj.id:
                    raise ValueError("studio cannot be an ancestor of itself")
                ancestor = self.get("studio", ancestor.parent) if ancestor.parent else None
        obj.parent = parent_id
        return obj

    def set_tag_parents(self, object_id: int, parent_ids: list[int]) -> StashObject:
        """A tag's parents (``parent_ids``); Stash refuses one that is already below it
        (pkg/tag/update.go ``InvalidTagHierarchyError``)."""
        obj = self._live("tag", object_id)
        for parent_id in parent_ids:
            parent = self._live("tag", parent_id)
            if parent.id == obj.id or parent.id in self.descendants("tag", {obj.id}, -1):
                raise ValueError(
                    f'cannot apply tag "{parent.name}" as a parent of "{obj.name}"'
                    " as it is already a child"
                )
        obj.parents = list(dict.fromkeys(parent_ids))
        return obj

    def descendants(self, kind: str, ids: set[int], depth: int) -> set[int]:
        """``ids`` and their child studios or sub-tags ``depth`` levels down (-1: all), as a
        hierarchical criterion's ``depth`` reads them (pkg/sqlite/criterion_handlers.go)."""
        if kind not in ("studio", "tag") or depth == 0:
            return set(ids)
        found, level = set(ids), set(ids)
        while level and depth != 0:
            if kind == "studio":
                below = {o.id for o in self.all("studio") if o.parent in level}
            else:
                below = {o.id for o in self.all("tag") if level & set(o.parents)}
            level = below - found
            found |= level
            depth -= 1
        return found

    def touch(self, kind: str, object_id: int) -> StashObject:
        """An update that changes no name still stamps ``updated_at`` (``NewTagPartial``)."""
        obj = self._live(kind, object_id)
        obj.updated_at = self._stamp()
        return obj

    def merge(self, kind: str, sources: Iterable[int], destination: int) -> StashObject:
        """``tagsMerge`` or ``performerMerge`` (see the module docstring)."""
        if _kind(kind) == "studio":
            raise ValueError("Stash has no studio merge")
        target = self._live(kind, destination)
        merged = [self._live(kind, s) for s in sources]
        if any(s.id == target.id for s in merged):
            raise ValueError("cannot merge where source == destination")
        for source in merged:
            source.destroyed, source.merged_into = True, target.id
            if kind == "tag":
                target.aliases.append(source.name)
        if kind == "performer":
            target.updated_at = self._stamp()
        return target

    def destroy(self, kind: str, object_id: int) -> None:
        obj = self._objects[_kind(kind)].get(int(object_id))
        if obj is None or not obj.live:
            # pkg/sqlite/table.go NotFoundError: "id %d does not exist in %s"
            raise KeyError(f"id {object_id} does not exist in {kind}s")
        obj.destroyed = True

    def _live(self, kind: str, object_id: int) -> StashObject:
        obj = self._objects[_kind(kind)].get(int(object_id))
        if obj is None or not obj.live:
            raise KeyError(f"{kind} with id {object_id} not found")
        return obj


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    return kind


# -- findTags / findPerformers / findStudios ---------------------------------------------------
def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Like Stash's NATURAL_CI collation: case-insensitive, digit runs compared as numbers."""
    parts = re.split(r"(\d+)", text.casefold())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def select_objects(
    store: ObjectStore,
    kind: str,
    object_filter: dict[str, Any] | None,
    find_filter: dict[str, Any] | None,
    ids: list[Any] | None,
    format_time: Callable[[int, tzinfo | None], str],
) -> tuple[int, list[StashObject]]:
    """(count, the page) of live objects matching the filter, in Stash's order.

    Sorts as Stash does: the sort column, then ``COALESCE(name, id) COLLATE NATURAL_CI``
    (pkg/sqlite/tag.go ``getTagSort``; performer.go and studio.go alike); offset paging.
    """
    find_filter = find_filter or {}
    if ids:  # like Stash, an empty id list is no restriction
        found = find_many(kind, ids, lambda i: store.get(kind, i))
        return len(found), found
    candidates = store.all(kind)

    def text(obj: StashObject, name: str) -> str:
        return format_time(getattr(obj, name), store.tz)

    test = _predicate(object_filter, text)
    matched = [o for o in candidates if test(o)]
    sort = find_filter.get("sort") or "name"
    keys: dict[str, Callable[[StashObject], Any]] = {
        "name": lambda o: (natural_key(o.name),),
        "id": lambda o: (o.id, natural_key(o.name)),
        "updated_at": lambda o: (text(o, "updated_at"), natural_key(o.name)),
        "created_at": lambda o: (text(o, "created_at"), natural_key(o.name)),
    }
    if sort not in keys:
        raise GraphQLError(f"invalid sort: {sort}")
    descending = find_filter.get("direction") == "DESC"
    matched.sort(key=keys[sort], reverse=descending)
    per_page = find_filter.get("per_page")
    per_page = 25 if per_page is None else per_page
    if per_page < 0:
        return len(matched), matched
    page = max(1, find_filter.get("page") or 1)
    return len(matched), matched[(page - 1) * per_page : page * per_page]


def find_many(kind: str, ids: list[Any], get: Callable[[int], Any]) -> list[Any]:
    """``find*(ids:)`` as Stash answers it: the filter and paging ignored, in the order asked,
    and the whole query fails on the first id it has not got ("tag with id 7 not found"; a
    repeated id counts as not got: pkg/sqlite/tag.go ``FindMany`` places each row at the first
    index of its id; scene.go, performer.go and studio.go alike)."""
    try:
        wanted = [int(i) for i in ids]
    except ValueError as exc:
        raise GraphQLError("ids must be integers") from exc
    placed: list[Any] = [None] * len(wanted)
    for object_id in dict.fromkeys(wanted):
        obj = get(object_id)
        if obj is not None and getattr(obj, "live", True):
            placed[wanted.index(object_id)] = obj
    for position, obj in enumerate(placed):
        if obj is None:
            raise GraphQLError(f"{kind} with id {wanted[position]} not found")
    return placed


def _predicate(
    object_filter: dict[str, Any] | None, text: Callable[[StashObject, str], str]
) -> Callable[[StashObject], bool]:
    if not object_filter:
        return lambda o: True
    parts: list[Callable[[StashObject], bool]] = []
    for name, crit in object_filter.items():
        if name in ("AND", "OR", "NOT") or crit is None:
            continue
        parts.append(_criterion(name, crit, text))
    sub = {
        k: _predicate(object_filter[k], text) for k in ("AND", "OR", "NOT") if object_filter.get(k)
    }

    def test(obj: StashObject) -> bool:
        result = all(part(obj) for part in parts)
        if "AND" in sub:
            result = result and sub["AND"](obj)
        if "OR" in sub:
            result = result or sub["OR"](obj)
        if "NOT" in sub:
            result = result and not sub["NOT"](obj)
        return result

    return test


def _criterion(
    name: str, crit: dict[str, Any], text: Callable[[StashObject, str], str]
) -> Callable[[StashObject], bool]:
    modifier, value, value2 = crit["modifier"], crit["value"], crit.get("value2")
    if name == "name":
        folded = value.casefold()
        checks: dict[str, Callable[[str], bool]] = {
            "EQUALS": lambda v: v == folded,
            "NOT_EQUALS": lambda v: v != folded,
            "INCLUDES": lambda v: folded in v,
            "EXCLUDES": lambda v: folded not in v,
        }
        if modifier not in checks:
            raise GraphQLError(f"modifier {modifier} is not supported for name")
        check = checks[modifier]
        return lambda o: check(o.name.casefold())
    if name in ("created_at", "updated_at"):
        # Timestamps compare as text, as in Stash's SQLite (pkg/sqlite/sql.go).
        comparisons: dict[str, Callable[[str], bool]] = {
            "EQUALS": lambda v: v == value,
            "NOT_EQUALS": lambda v: v != value,
            "GREATER_THAN": lambda v: v > value,
            "LESS_THAN": lambda v: v < value,
            "BETWEEN": lambda v: value <= v <= (value2 or value),
            "NOT_BETWEEN": lambda v: not value <= v <= (value2 or value),
        }
        if modifier not in comparisons:
            raise GraphQLError(f"modifier {modifier} is not supported for {name}")
        compare = comparisons[modifier]
        return lambda o: compare(text(o, name))
    raise GraphQLError(f"filter {name} is not supported by the simulator")


def object_dict(
    obj: StashObject,
    format_time: Callable[[int, tzinfo | None], str],
    tz: tzinfo | None,
    store: ObjectStore | None = None,
) -> dict[str, Any]:
    """The dict graphql-core resolves a ``Tag``, ``Performer``, ``Studio`` or ``Group``
    selection from (with ``store``, a studio's ``parent_studio`` and a performer's ``tags``)."""
    parent = store.get("studio", obj.parent) if store is not None and obj.parent else None
    tags = store.resolve("tag", obj.tags) if store is not None and obj.tags else []
    parents = store.resolve("tag", obj.parents) if store is not None and obj.parents else []
    return {
        "parents": [
            object_dict(tag, format_time, tz, store)
            for tag in sorted(parents, key=lambda o: natural_key(o.name))
        ],
        # a performer's tags by name (pkg/sqlite/tables.go performersTagsTableMgr: tagTableSort)
        "tags": [
            object_dict(tag, format_time, tz)
            for tag in sorted(tags, key=lambda o: natural_key(o.name))
        ],
        "parent_studio": (
            object_dict(parent, format_time, tz, store)
            if parent is not None and parent.live
            else None
        ),
        "id": str(obj.id),
        "name": obj.name,
        "aliases": list(obj.aliases),
        "alias_list": list(obj.aliases),
        "description": None,
        "synopsis": obj.synopsis,
        "director": None,
        "details": None,
        "disambiguation": None,
        "created_at": format_time(obj.created_at, tz),
        "updated_at": format_time(obj.updated_at, tz),
    }
