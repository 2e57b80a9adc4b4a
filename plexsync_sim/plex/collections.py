"""Collections edited from their own side, as python-plexapi's `Collection` sends it.

python-plexapi 4.16 `plexapi/collection.py`: `Collection.create` posts
``/library/collections?uri=server://<machine>/com.plexapp.plugins.library/library/metadata/1,2
&type=1&title=..&smart=0&sectionId=1`` (around line 461), `addItems` puts
``/library/collections/{id}/items?uri=...`` (around line 329) and `removeItems` deletes
``/library/collections/{id}/items/{ratingKey}`` (around line 350). Membership lives in the
items' collection tags, as in Plex; these routes change it without touching an item's
`updatedAt` (see `PlexLibrary.collection_add`).
"""

from __future__ import annotations

import re
from typing import Protocol

from plexsync_sim.http_base import Request, Response, SimError
from plexsync_sim.plex.library import PlexLibrary
from plexsync_sim.plex.xml import attrs, container

XML_TYPE = "text/xml;charset=utf-8"
_URI_KEYS = re.compile(r"/library/metadata/([0-9][0-9,]*)$")


class CollectionHost(Protocol):
    """What these routes need of the simulator (a Protocol, so this module needs not import
    the server that routes to it)."""

    library: PlexLibrary
    section_title: str

    def video_xml(self, rating_key: int) -> str: ...


ROUTES = (
    (r"^/library/collections/?$", "/library/collections"),
    (r"^/library/collections/(?P<collection>\d+)$", "/library/collections/{id}"),
    (r"^/library/collections/(?P<collection>\d+)/children$", "/library/collections/{id}/children"),
    (r"^/library/collections/(?P<collection>\d+)/items$", "/library/collections/{id}/items"),
    (
        r"^/library/collections/(?P<collection>\d+)/items/(?P<keys>\d+)$",
        "/library/collections/{id}/items/{itemId}",
    ),
)


def _uri_keys(sim: CollectionHost, request: Request) -> list[int]:
    uri = request.param("uri") or ""
    found = _URI_KEYS.search(uri)
    if found is None:
        raise SimError(400, "uri must name /library/metadata/<ratingKeys>")
    keys = [int(part) for part in found.group(1).split(",") if part]
    missing = [rk for rk in keys if sim.library.get(rk) is None]
    if missing:
        raise SimError(404, f"no such item(s): {missing}")
    return keys


def _directory(sim: CollectionHost, key: int) -> str:
    title = sim.library.collection_title(key) or ""
    head = attrs(
        ratingKey=key,
        key=f"/library/collections/{key}/children",
        guid=f"collection://{key}",
        type="collection",
        title=title,
        subtype="movie",
        smart=0,
        childCount=len(sim.library.collection_members(title)),
        librarySectionID="1",
        librarySectionTitle=sim.section_title,
        librarySectionKey="/library/sections/1",
    )
    return f"<Directory{head} />\n"


def _known(sim: CollectionHost, groups: dict[str, str]) -> int:
    key = int(groups["collection"])
    if sim.library.collection_title(key) is None:
        raise SimError(404, "no such collection")
    return key


def create(sim: CollectionHost, request: Request, groups: dict[str, str]) -> Response:
    title = (request.param("title") or "").strip()
    if not title or request.param("smart") not in (None, "0"):
        raise SimError(400, "a regular collection needs a title (smart ones are not simulated)")
    keys = _uri_keys(sim, request)
    key = sim.library.collection_key(title)
    sim.library.collection_add(key, keys)
    return Response(200, container([_directory(sim, key)], size=1), XML_TYPE)


def show(sim: CollectionHost, request: Request, groups: dict[str, str]) -> Response:
    key = _known(sim, groups)
    return Response(200, container([_directory(sim, key)], size=1), XML_TYPE)


def children(sim: CollectionHost, request: Request, groups: dict[str, str]) -> Response:
    key = _known(sim, groups)
    with sim.library.lock:
        members = sim.library.collection_members(sim.library.collection_title(key) or "")
        videos = [sim.video_xml(rk) for rk in members]
    return Response(200, container(videos, size=len(videos)), XML_TYPE)


def add_items(sim: CollectionHost, request: Request, groups: dict[str, str]) -> Response:
    key = _known(sim, groups)
    sim.library.collection_add(key, _uri_keys(sim, request))
    return Response(200, container([_directory(sim, key)], size=1), XML_TYPE)


def remove_item(sim: CollectionHost, request: Request, groups: dict[str, str]) -> Response:
    key = _known(sim, groups)
    rating_key = int(groups["keys"])
    if sim.library.get(rating_key) is None:
        raise SimError(404, "no such item")
    sim.library.collection_remove(key, rating_key)
    return Response(200)


def section_collections(sim: CollectionHost, request: Request, groups: dict[str, str]) -> Response:
    """`GET /library/sections/{id}/collections`: every collection of the section."""
    titles = sim.library.collection_titles()
    keys = [sim.library.collection_key(title) for title in titles]
    dirs = [_directory(sim, key) for key in keys]
    body = container(dirs, size=len(dirs), totalSize=len(dirs), librarySectionID="1")
    return Response(200, body, XML_TYPE)
