"""``findScenes`` for the Stash simulator: filters, sort, paging, and the GraphQL objects.

Timestamp and date criteria compare RFC 3339 *text*, like Stash's SQLite queries. Criteria on
``updated_at``/``created_at`` are answered with a binary search over the catalogue (whose
timestamps rise with the id), so polling 100,000 scenes for changes stays cheap; other criteria
build each candidate scene, which costs tens of microseconds per scene.

Defaults: ``per_page`` 25 (``-1`` = all), ``page`` 1, sort ``id`` ascending. Sort keys: ``id``,
``updated_at``, ``created_at``, ``title``, ``date``, ``path``, ``duration``, ``filesize``,
``rating``, ``random``.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import re
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from graphql import GraphQLError

from plexsync_sim.catalog import base_timestamp
from plexsync_sim.stash.objects import natural_key, object_dict
from plexsync_sim.stash.scenes import SceneRecord, SceneStore, basename, format_time

Predicate = Callable[[SceneRecord], bool]
DEFAULT_PER_PAGE = 25
_NULLS = (None, "")


# -- criteria ---------------------------------------------------------------------------------
def _compare(modifier: str, actual: Any, value: Any, value2: Any) -> bool:
    if modifier == "IS_NULL":
        return actual in _NULLS
    if modifier == "NOT_NULL":
        return actual not in _NULLS
    if actual in _NULLS:
        return modifier in ("NOT_EQUALS", "NOT_BETWEEN")
    if modifier == "EQUALS":
        return bool(actual == value)
    if modifier == "NOT_EQUALS":
        return bool(actual != value)
    if modifier == "GREATER_THAN":
        return bool(actual > value)
    if modifier == "LESS_THAN":
        return bool(actual < value)
    if modifier in ("BETWEEN", "NOT_BETWEEN"):
        if value2 is None:
            raise GraphQLError(f"{modifier} needs value2")
        inside = bool(value <= actual <= value2)
        return inside if modifier == "BETWEEN" else not inside
    raise GraphQLError(f"modifier {modifier} is not supported for this criterion")


def _string_test(crit: dict[str, Any]) -> Callable[[str | None], bool]:
    modifier, value = crit["modifier"], crit["value"]
    if modifier in ("MATCHES_REGEX", "NOT_MATCHES_REGEX"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise GraphQLError(f"invalid regex: {exc}") from exc
        want = modifier == "MATCHES_REGEX"
        return lambda v: v is not None and bool(pattern.search(v)) == want
    folded = value.casefold()
    if modifier in ("INCLUDES", "EXCLUDES"):
        want = modifier == "INCLUDES"
        return lambda v: (v is not None and folded in v.casefold()) == want
    if modifier in ("EQUALS", "NOT_EQUALS", "IS_NULL", "NOT_NULL"):
        return lambda v: _compare(modifier, None if v is None else v.casefold(), folded, None)
    raise GraphQLError(f"modifier {modifier} is not supported for strings")


def _criterion(store: SceneStore, name: str, crit: Any) -> Predicate:
    if name == "organized":
        return lambda r: r.organized == bool(crit)
    if crit is None:
        return lambda r: True
    if name in ("title", "code", "details", "director"):
        test = _string_test(crit)
        return lambda r: test(getattr(r, name))
    if name in ("path", "url"):
        many = _string_test(crit)
        negative = crit["modifier"] in ("NOT_EQUALS", "EXCLUDES", "NOT_MATCHES_REGEX", "IS_NULL")
        combine = all if negative else any

        def test_many(r: SceneRecord) -> bool:
            values = r.files if name == "path" else r.urls
            return combine(many(v) for v in values) if values else many(None)

        return test_many
    value, value2, modifier = crit["value"], crit.get("value2"), crit["modifier"]
    if name in ("id", "file_count", "rating100"):
        getters: dict[str, Callable[[SceneRecord], Any]] = {
            "id": lambda r: r.id,
            "file_count": lambda r: len(r.files),
            "rating100": lambda r: r.rating100,
        }
        get = getters[name]
        return lambda r: _compare(modifier, get(r), value, value2)
    if name == "date":
        return lambda r: _compare(modifier, r.date, value, value2)
    if name in ("tags", "performers", "studios", "groups"):
        return _joined_test(store, name.rstrip("s"), crit)
    if name == "performer_tags":
        return _joined_test(store, "performer_tag", crit)
    if name in ("updated_at", "created_at"):
        tz = store.tz
        field = name
        return lambda r: _compare(modifier, format_time(getattr(r, field), tz), value, value2)
    raise GraphQLError(f"scene_filter.{name} is not supported by the simulator")


def _joined_test(store: SceneStore, kind: str, crit: dict[str, Any]) -> Predicate:
    """``tags``/``studios`` (HierarchicalMultiCriterionInput) and ``performers``
    (MultiCriterionInput): INCLUDES is any of the ids, INCLUDES_ALL all, EXCLUDES none, plus
    ``excludes`` (stashapp/stash pkg/sqlite/criterion_handlers.go addHierarchicalConditionClauses).
    Studios and tags have parents, so ``depth`` takes in child studios and sub-tags."""
    modifier = crit["modifier"]
    try:
        wanted = {int(i) for i in crit.get("value") or []}
        excluded = {int(i) for i in crit.get("excludes") or []}
    except ValueError as exc:
        raise GraphQLError("ids must be integers") from exc
    depth = crit.get("depth")
    if isinstance(depth, int):
        wanted = store.objects.descendants(kind, wanted, depth)
    tests: dict[str, Callable[[set[int]], bool]] = {
        "INCLUDES": lambda have: bool(have & wanted),
        "INCLUDES_ALL": lambda have: wanted <= have,
        "EXCLUDES": lambda have: not have & wanted,
        "IS_NULL": lambda have: not have,
        "NOT_NULL": lambda have: bool(have),
    }
    if modifier not in tests:
        raise GraphQLError(f"modifier {modifier} is not supported for {kind}s")
    test = tests[modifier]

    def check(r: SceneRecord) -> bool:
        have = set(store.carries(r, kind))
        return test(have) and not have & excluded

    return check


def build_predicate(store: SceneStore, scene_filter: dict[str, Any] | None) -> Predicate | None:
    if not scene_filter:
        return None
    parts: list[Predicate] = [
        _criterion(store, name, crit)
        for name, crit in scene_filter.items()
        if name not in ("AND", "OR", "NOT")
    ]

    def own(r: SceneRecord) -> bool:
        return all(part(r) for part in parts)

    result: Predicate = own
    for key, combine in (("AND", _both), ("OR", _either), ("NOT", _but_not)):
        if scene_filter.get(key):
            sub = build_predicate(store, scene_filter[key]) or _always
            result = combine(result, sub)
    return result


def _always(record: SceneRecord) -> bool:
    return True


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda r: first(r) and second(r)


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda r: first(r) or second(r)


def _but_not(first: Predicate, second: Predicate) -> Predicate:
    return lambda r: first(r) and not second(r)


def _query_predicate(text: str) -> Predicate:
    needle = text.casefold()

    def test(r: SceneRecord) -> bool:
        haystack = [r.title or "", r.details or "", r.code or "", *r.files]
        return any(needle in value.casefold() for value in haystack)

    return test


# -- selection --------------------------------------------------------------------------------
def _narrow(store: SceneStore, base: range, field: str, crit: dict[str, Any]) -> range | None:
    """Catalogue ids whose unedited ``field`` text matches ``crit``, by binary search."""

    def key(scene_id: int) -> str:
        return format_time(base_timestamp(scene_id), store.tz)

    modifier, value, value2 = crit["modifier"], crit["value"], crit.get("value2")
    if modifier == "GREATER_THAN":
        return base[bisect.bisect_right(base, value, key=key) :]
    if modifier == "LESS_THAN":
        return base[: bisect.bisect_left(base, value, key=key)]
    if modifier == "EQUALS":
        return base[
            bisect.bisect_left(base, value, key=key) : bisect.bisect_right(base, value, key=key)
        ]
    if modifier == "BETWEEN" and value2 is not None:
        return base[
            bisect.bisect_left(base, value, key=key) : bisect.bisect_right(base, value2, key=key)
        ]
    return None


def _last(record: SceneRecord) -> tuple[tuple[int, int | str], ...]:
    """Stash's final sort key whatever the sort: ``COALESCE(scenes.title, scenes.id)
    COLLATE NATURAL_CI ASC`` (stashapp/stash pkg/sqlite/scene.go, setSceneSort)."""
    return natural_key(record.title if record.title is not None else str(record.id))


_SORT_KEYS: dict[str, Callable[[SceneStore, SceneRecord], Any]] = {
    "id": lambda s, r: r.id,
    "updated_at": lambda s, r: (format_time(r.updated_at, s.tz), _last(r)),
    "created_at": lambda s, r: (format_time(r.created_at, s.tz), _last(r)),
    "title": lambda s, r: (_last(r), r.id),
    "date": lambda s, r: (r.date or "", _last(r)),
    "path": lambda s, r: ((r.files[0] if r.files else ""), _last(r)),
    "duration": lambda s, r: (r.duration, _last(r)),
    "filesize": lambda s, r: (r.size, _last(r)),
    "rating": lambda s, r: (r.rating100 or 0, _last(r)),
}


def select(
    store: SceneStore,
    find_filter: dict[str, Any] | None,
    scene_filter: dict[str, Any] | None,
    restrict: Sequence[int] | None,
) -> list[int]:
    """All matching scene ids, in the requested order (before paging)."""
    find_filter = find_filter or {}
    sort = find_filter.get("sort") or "id"
    if sort not in _SORT_KEYS and sort != "random" and not sort.startswith("random_"):
        raise GraphQLError(f"invalid sort {sort!r}")
    with store.lock:
        full = build_predicate(store, scene_filter)
        if find_filter.get("q"):
            query_test, old = _query_predicate(find_filter["q"]), full
            full = (lambda r: query_test(r) and old(r)) if old else query_test
        edited = set(store.edited_ids())
        if restrict is not None:
            base: Sequence[int] = sorted({i for i in restrict if store.exists(i)} - edited)
            edited &= set(restrict)
            base_pred = full
        else:
            base, base_pred = _fast_base(store, find_filter, scene_filter)
        matched = [
            i for i in base if i not in edited and (base_pred is None or base_pred(_get(store, i)))
        ]
        changed = [
            i for i in edited if store.get(i) is not None and (full is None or full(_get(store, i)))
        ]
        ordered = _order(store, sort, matched, changed)
    if find_filter.get("direction") == "DESC":
        ordered.reverse()
    return ordered


def _fast_base(
    store: SceneStore, find_filter: dict[str, Any], scene_filter: dict[str, Any] | None
) -> tuple[Sequence[int], Predicate | None]:
    base = range(1, store.count + 1)
    residual = dict(scene_filter or {})
    if store.monotonic_text and not residual.keys() & {"AND", "OR", "NOT"}:
        for field in ("updated_at", "created_at"):
            crit = residual.get(field)
            narrowed = _narrow(store, base, field, crit) if crit else None
            if narrowed is not None:
                base = narrowed
                del residual[field]
    pred = build_predicate(store, residual)
    if find_filter.get("q"):
        query_test, old = _query_predicate(find_filter["q"]), pred
        pred = (lambda r: query_test(r) and old(r)) if old else query_test
    return base, pred


def _get(store: SceneStore, scene_id: int) -> SceneRecord:
    record = store.get(scene_id)
    assert record is not None
    return record


def _order(store: SceneStore, sort: str, matched: list[int], changed: list[int]) -> list[int]:
    if sort.startswith("random"):
        ids = sorted(matched + changed)
        random.Random(f"{store.seed}/{sort}").shuffle(ids)
        return ids
    if sort == "id" or (sort == "created_at" and store.monotonic_text):
        return sorted(matched + changed)
    if sort == "updated_at" and store.monotonic_text:
        # Catalogue timestamps are one a minute, so no two tie; edits are never older than the
        # catalogue (see SceneStore.update), so only one tying the newest one needs the full sort.
        key = _SORT_KEYS["updated_at"]
        edited = sorted(changed, key=lambda i: key(store, _get(store, i)))
        newest_base = key(store, _get(store, matched[-1]))[0] if matched else ""
        if not edited or key(store, _get(store, edited[0]))[0] > newest_base:
            return matched + edited
    key = _SORT_KEYS[sort]
    return sorted(matched + changed, key=lambda i: key(store, _get(store, i)))


def page_of(ids: list[int], find_filter: dict[str, Any] | None) -> list[int]:
    find_filter = find_filter or {}
    per_page = find_filter.get("per_page")
    per_page = DEFAULT_PER_PAGE if per_page is None else per_page
    if per_page < 0:
        return ids
    number = max(1, find_filter.get("page") or 1)
    return ids[(number - 1) * per_page : number * per_page]


# -- GraphQL objects --------------------------------------------------------------------------
def scene_object(store: SceneStore, record: SceneRecord, base_url: str) -> dict[str, Any]:
    """The dict graphql-core resolves a ``Scene`` selection from."""
    created = format_time(record.created_at, store.tz)
    updated = format_time(record.updated_at, store.tz)
    sid = str(record.id)
    scene_url = f"{base_url}/scene/{sid}"
    files = [
        {
            "id": str(record.id * 10 + n),
            "path": path,
            "basename": basename(path),
            "parent_folder_id": str(zlib.crc32(path.rsplit("/", 1)[0].encode()) % 100_000 + 1),
            "mod_time": created,
            "size": record.size,
            "fingerprints": [
                {"type": "oshash", "value": hashlib.sha1(path.encode()).hexdigest()[:16]}
            ],
            "format": path.rsplit(".", 1)[-1] if "." in path else "mp4",
            "width": 1920,
            "height": 1080,
            "duration": record.duration,
            "video_codec": "h264",
            "audio_codec": "aac",
            "frame_rate": 29.97,
            "bit_rate": 8_000_000,
            "created_at": created,
            "updated_at": created,
        }
        for n, path in enumerate(record.files)
    ]
    return {
        "id": sid,
        # Stash's Scene holds Go strings: unset text answers "", never null (recorded answers).
        "title": record.title or "",
        "code": record.code or "",
        "details": record.details or "",
        "director": record.director or "",
        "urls": list(record.urls),
        "date": record.date,
        "rating100": record.rating100,
        "organized": record.organized,
        "stash_ids": [
            {"endpoint": endpoint, "stash_id": stash_id, "updated_at": updated}
            for endpoint, stash_id in record.stash_ids
        ],
        "o_counter": 0,
        "interactive": False,
        "created_at": created,
        "updated_at": updated,
        "files": files,
        "paths": {
            "screenshot": f"{scene_url}/screenshot?t={record.updated_at}",
            "preview": f"{scene_url}/preview",
            "stream": f"{scene_url}/stream",
            "webp": f"{scene_url}/webp",
            "vtt": f"{scene_url}/vtt/thumbs",
            "sprite": f"{scene_url}/vtt/sprite",
            "funscript": None,
            "interactive_heatmap": None,
            "caption": None,
        },
        "studio": next(iter(_objects(store, record, "studio")), None),
        "groups": _scene_groups(store, record),
        "tags": _objects(store, record, "tag"),
        "performers": _objects(store, record, "performer"),
    }


def _scene_groups(store: SceneStore, record: SceneRecord) -> list[dict[str, Any]]:
    """``groups { group scene_index }``, in the order the scene joined them (Stash reads the
    join without an ORDER BY, as for performers)."""
    found = []
    for group_id, index in record.groups:
        group = store.objects.get("group", group_id)
        if group is not None and group.live:
            shown = object_dict(group, format_time, store.tz, store.objects)
            found.append({"group": shown, "scene_index": index})
    return found


def _objects(store: SceneStore, record: SceneRecord, kind: str) -> list[dict[str, Any]]:
    return [
        object_dict(o, format_time, store.tz, store.objects) for o in store.joined(record, kind)
    ]
