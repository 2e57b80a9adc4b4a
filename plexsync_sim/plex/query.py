"""Listing queries of ``/library/sections/{id}/all``: paging, ``type``, filters and sort.

Filters use Plex's operator spelling, which ``parse_qsl`` cannot read (``title==x`` is the key
``title`` with the raw value ``=x``), so the raw query string is split by hand:

* strings (``title``, ``titleSort``, ``studio``, ``summary``): ``=`` contains, ``!=`` does not
  contain, ``==`` is, ``!==`` is not, ``<=`` begins with, ``>=`` ends with (all case-insensitive).
* epochs (``addedAt``, ``updatedAt``): ``=``, ``!=``, ``>>=`` (at or after, inclusive, so a
  poller using its last seen value never misses an item) and ``<<=`` (before). Relative values
  such as ``-7d`` (s, m, h, d, w, mon, y) count back from now: the units python-plexapi sends
  (``plexapi/library.py`` ``LibrarySection._validateFieldValueDate``: ``-?\\d+(mon|[smhdwy])``).
  ``updatedAt`` is a filter real Plex takes but does not list in its filter catalogue
  (``LibrarySection._manualFields``: "available but not exposed on the Plex server").

Without ``sort`` the order is the rating-key order (catalogue first, then added movies).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from plexsync_sim.http_base import Request, SimError
from plexsync_sim.plex.library import PlexLibrary

STRING_FIELDS = frozenset({"title", "titleSort", "studio", "summary"})
EPOCH_FIELDS = frozenset({"addedAt", "updatedAt"})
SORT_FIELDS = frozenset({"addedAt", "updatedAt", "title", "titleSort", "ratingKey", "id"})
_IGNORED = frozenset({"checkFiles", "asyncAugmentMetadata", "excludeAllLeaves", "sectionID"})
_RELATIVE = re.compile(r"^-(\d+)(mon|[smhdwy])$")
_UNIT_SECONDS = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "mon": 30 * 86400,
    "y": 365 * 86400,
}
_KEY_OP = re.compile(r"^(.*?)([!<>=]*)$")


@dataclass
class ListingQuery:
    start: int = 0
    size: int | None = None
    libtype: int | None = None
    limit: int | None = None
    sort: list[tuple[str, bool]] = field(default_factory=list)
    filters: list[tuple[str, str, str]] = field(default_factory=list)


def _int_param(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise SimError(400, f"{name} must be an integer") from exc
    if number < 0:
        raise SimError(400, f"{name} must be >= 0")
    return number


def _split(part: str) -> tuple[str, str, str]:
    """``'title!==x'`` -> ``('title', '!==', 'x')``; values are percent-decoded.

    plexapi writes operators either raw (``title==x``) or url-encoded into the key
    (``title%3D=x``, ``addedAt%3E%3E=5``), so both spellings are read.
    """
    raw_key, _, raw_value = part.partition("=")
    match = _KEY_OP.match(unquote_plus(raw_key))
    assert match is not None  # the pattern matches any string
    name, suffix = match.group(1).removeprefix("movie."), match.group(2)
    op = suffix + "="
    if suffix in ("", "!") and raw_value.startswith("="):
        op += "="
        raw_value = raw_value[1:]
    return name, op, unquote_plus(raw_value)


def parse_listing(request: Request) -> ListingQuery:
    query = ListingQuery()
    start = request.header("X-Plex-Container-Start")
    size = request.header("X-Plex-Container-Size")
    for part in request.query.split("&"):
        if not part:
            continue
        name, op, value = _split(part)
        if name == "X-Plex-Container-Start":
            start = value
        elif name == "X-Plex-Container-Size":
            size = value
        elif name == "type":
            query.libtype = _int_param("type", value)
        elif name == "limit":
            query.limit = _int_param("limit", value)
        elif name == "sort":
            query.sort = _parse_sort(value)
        elif name in STRING_FIELDS or name in EPOCH_FIELDS:
            query.filters.append((name, op, value))
        elif name.startswith(("include", "X-Plex-")) or name in _IGNORED:
            continue
        else:
            raise SimError(400, f"unknown listing filter {name!r}")
    query.start = _int_param("X-Plex-Container-Start", start) if start else 0
    query.size = _int_param("X-Plex-Container-Size", size) if size else None
    return query


def _parse_sort(value: str) -> list[tuple[str, bool]]:
    keys = []
    for item in value.split(","):
        name, _, direction = item.partition(":")
        name = name.removeprefix("movie.")
        if name not in SORT_FIELDS or direction not in ("", "asc", "desc"):
            raise SimError(400, f"unknown sort {item!r}")
        keys.append((name, direction == "desc"))
    return keys


def _epoch(value: str, now: int) -> int:
    relative = _RELATIVE.match(value)
    if relative:
        return now - int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
    try:
        return int(value)
    except ValueError as exc:
        raise SimError(400, f"not an epoch value: {value!r}") from exc


def _string_test(op: str, wanted: str) -> Callable[[str], bool]:
    target = wanted.casefold()
    tests: dict[str, Callable[[str], bool]] = {
        "=": lambda v: target in v,
        "!=": lambda v: target not in v,
        "==": lambda v: v == target,
        "!==": lambda v: v != target,
        "<=": lambda v: v.startswith(target),
        ">=": lambda v: v.endswith(target),
    }
    if op not in tests:
        raise SimError(400, f"operator {op!r} is not valid for strings")
    return tests[op]


def _epoch_test(op: str, wanted: int) -> Callable[[int], bool]:
    tests: dict[str, Callable[[int], bool]] = {
        "=": lambda v: v == wanted,
        "!=": lambda v: v != wanted,
        ">>=": lambda v: v >= wanted,
        "<<=": lambda v: v < wanted,
    }
    if op not in tests:
        raise SimError(400, f"operator {op!r} is not valid for dates")
    return tests[op]


def _predicate(library: PlexLibrary, name: str, op: str, value: str) -> Callable[[int], bool]:
    if name in EPOCH_FIELDS:
        test = _epoch_test(op, _epoch(value, library.now()))
        getter = library.added_at if name == "addedAt" else library.updated_at
        return lambda rk: test(getter(rk))
    text_test = _string_test(op, value)
    return lambda rk: text_test(library.field_value(rk, name).casefold())


def _sort_key(library: PlexLibrary, name: str) -> Callable[[int], object]:
    if name == "addedAt":
        return library.added_at
    if name == "updatedAt":
        return library.updated_at
    if name in ("title", "titleSort"):
        return lambda rk: (
            library.field_value(rk, name) or library.field_value(rk, "title")
        ).casefold()
    return lambda rk: rk


def select(library: PlexLibrary, query: ListingQuery) -> Sequence[int]:
    """The rating keys matching the query, in order, before paging."""
    if query.libtype not in (None, 1):
        return []
    with library.lock:
        keys: Sequence[int] = library.keys()
        if query.filters:
            tests = [_predicate(library, *spec) for spec in query.filters]
            keys = [rk for rk in keys if all(test(rk) for test in tests)]
        for name, descending in reversed(query.sort):
            keys = sorted(keys, key=_sort_key(library, name), reverse=descending)  # type: ignore[arg-type]
    if query.limit is not None:
        keys = keys[: query.limit]
    return keys


def page(keys: Sequence[int], query: ListingQuery) -> Sequence[int]:
    end = len(keys) if query.size is None else query.start + query.size
    return keys[query.start : end]
