"""A Plex Media Server simulator that the unmodified plexapi library talks to.

It serves one movie section (key ``"1"``) holding ``movies`` catalogue movies, generated lazily
from ``seed`` (see ``plex_data`` for rating keys and ``catalog`` for file paths), and implements
what plexapi sends for connecting, listing, searching, fetching, editing, uploading posters and
scanning. ``X-Plex-Token`` (header or query) is required on every route except ``/__sim__/``
and ``GET /identity``, which real Plex answers to anyone (Plexopedia, "Server Identity"; python-
plexapi never sends a token-less request, so it cannot tell a revoked token from a good one).

Control routes (not counted in stats): ``GET|DELETE /__sim__/stats``, ``POST|DELETE|GET
/__sim__/fault``, ``GET /__sim__/items``, ``GET /__sim__/items/{ratingKey}``,
``POST /__sim__/movies`` ``{"file", "title"}`` (a movie appears now) and
``POST /__sim__/pending`` ``{"file", "title"}`` (a movie appears at the next scan of its folder)
and ``POST|DELETE /__sim__/login_page`` (a reverse proxy answers every request with its HTML
login page, status 200, until deleted), ``POST /__sim__/backup`` (Plex's scheduled database
backup; answers ``{"backup": n}``) and ``POST /__sim__/restore`` ``{"backup": n}`` (the database
is restored from it: items, metadata and ``updatedAt`` go back in time). Collections can be
edited from their own side (``plexsync_sim.plex.collections``), which leaves items' ``updatedAt``
alone as real Plex does. ``/:/websockets/notifications`` is Plex's notification
websocket: timeline entries for added and edited items, activities for scans (see ``ws_plex``).
``use_agent()`` makes new items go through a metadata agent that overwrites them on its own
thread before reporting state 5, as real PMS does (see ``plex_agent``); without it a new item is
processed at once (state 0, then 5).
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import re
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from plexsync_sim.catalog import rel_path
from plexsync_sim.http_base import Request, Response, SimError, SimServer, json_response
from plexsync_sim.plex import collections as plex_collections
from plexsync_sim.plex.agent import PlexAgent
from plexsync_sim.plex.edit import apply_edit, parse_edit
from plexsync_sim.plex.library import RATING_KEY_BASE, LibraryBackup, PlexLibrary, plex_path
from plexsync_sim.plex.notifications import PlexNotifier
from plexsync_sim.plex.query import page, parse_listing, select
from plexsync_sim.plex.xml import (
    SECTION_UUID,
    SERVER_VERSION,
    container,
    filter_meta,
    section_directory,
    video,
)
from plexsync_sim.ws_base import is_upgrade

logger = logging.getLogger(__name__)

SECTION_ID = "1"
XML_TYPE = "text/xml;charset=utf-8"
POSTER_FETCH_TIMEOUT = 5.0
_RK_LIST = r"(?P<keys>[0-9][0-9,]*)"

# (path regex, stats template); the handler is chosen by method in ``_HANDLERS``.
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(pattern), template)
    for pattern, template in (
        (r"^/$", "/"),
        (r"^/identity$", "/identity"),
        (r"^/library/?$", "/library"),
        (r"^/library/sections/?$", "/library/sections"),
        (r"^/library/sections/(?P<section>[^/]+)/all$", "/library/sections/{id}/all"),
        (r"^/library/sections/(?P<section>[^/]+)/refresh$", "/library/sections/{id}/refresh"),
        (
            r"^/library/sections/(?P<section>[^/]+)/collections$",
            "/library/sections/{id}/collections",
        ),
        (r"^/library/sections/(?P<section>[^/]+)/?$", "/library/sections/{id}"),
        (rf"^/library/metadata/{_RK_LIST}$", "/library/metadata/{ids}"),
        (r"^/library/metadata/(?P<keys>\d+)/posters$", "/library/metadata/{id}/posters"),
        (r"^/library/metadata/(?P<keys>\d+)/arts$", "/library/metadata/{id}/arts"),
        (r"^/library/metadata/(?P<keys>\d+)/refresh$", "/library/metadata/{id}/refresh"),
        (r"^/:/websockets/notifications$", "/:/websockets/notifications"),
        (r"^/:/rate$", "/:/rate"),
        *plex_collections.ROUTES,
    )
]


class PlexSimulator(SimServer):
    """In-process Plex Media Server simulator; see the module docstring."""

    def __init__(
        self,
        token: str = "tok",
        movies: int = 50,
        seed: int = 1,
        path_prefix: str = "/media",
        port: int = 0,
        section_title: str = "Movies",
        *,
        now: Callable[[], float] = time.time,
        path_style: str = "posix",
    ) -> None:
        super().__init__(port=port)
        self.token = token
        self.seed = seed
        self.path_prefix = path_prefix
        self.section_title = section_title
        self.library = PlexLibrary(
            seed=seed, movies=movies, path_prefix=path_prefix, now=now, path_style=path_style
        )
        self.machine_identifier = hashlib.sha1(f"plexsync-sim:{seed}".encode()).hexdigest()
        self._started_at = int(now())
        # Not Plex: a reverse proxy in front of it answering every request with its login page.
        self.login_page = False
        self.notifier = PlexNotifier(SECTION_ID, section_title)  # the notification websocket
        # None: new items are processed at once (state 0, then 5). See `use_agent`.
        self.agent: PlexAgent | None = None
        self.backups: list[LibraryBackup] = []  # `POST /__sim__/backup`, oldest first
        self._scans: list[str | None] = []  # `scan_log`

    # -- public helpers ------------------------------------------------------------------------
    @staticmethod
    def rating_key(index: int) -> int:
        """Rating key of catalogue movie ``index`` (1-based)."""
        return RATING_KEY_BASE + index

    def file_of(self, index: int) -> str:
        """The file path of catalogue movie ``index``: ``<path_prefix>/<rel_path(seed, index)>``
        (with backslashes when the path style is ``windows``)."""
        return plex_path(self.path_prefix, rel_path(self.seed, index), self.library.path_style)

    def items(self) -> list[dict[str, Any]]:
        """Every movie as JSON, the same objects as ``GET /__sim__/items``."""
        return self.library.snapshot()

    def scan_log(self) -> list[str | None]:
        """The `path` of every scan asked for, oldest first (None: the whole section)."""
        with self.library.lock:
            return list(self._scans)

    def item(self, rating_key: int) -> dict[str, Any] | None:
        with self.library.lock:
            movie = self.library.get(rating_key)
            return movie.to_json() if movie is not None else None

    def add_movie(self, file: str, title: str | None = None) -> int:
        """A new movie appears now in listings; returns its rating key."""
        rating_key = self.library.add_movie(file, title)
        if self.agent is not None:
            self._announce_created([rating_key])
            self.agent.process([rating_key])
        else:
            self._announce([rating_key], created=True)
        return rating_key

    def use_agent(self, *, paused: bool = False) -> PlexAgent:
        """From now on new items are processed by a metadata agent that overwrites them, on
        its own thread (paused: until `agent.resume()`); scans then end after their items."""
        self.agent = PlexAgent(self.library, self.notifier)
        if paused:
            self.agent.pause()
        return self.agent

    def set_tags(self, rating_key: int, kind: str, names: list[str]) -> None:
        """Tags a user made in Plex (``kind`` as in edits: collection, genre, actor, ...)."""
        with self.library.lock:
            movie = self.library.mutable(rating_key)
            movie.tags[kind] = list(names)
            movie.updated_at = max(self.library.now(), movie.updated_at)  # as any edit does

    def collection_add(self, title: str, rating_keys: list[int]) -> int:
        """Items join the collection `title` from its side (plexapi `Collection.addItems`);
        their `updatedAt` does not move. Returns the collection's rating key."""
        key = self.library.collection_key(title)
        self.library.collection_add(key, rating_keys)
        return key

    def collection_remove(self, title: str, rating_key: int) -> None:
        """An item leaves `title` from the collection's side (`Collection.removeItems`)."""
        self.library.collection_remove(self.library.collection_key(title), rating_key)

    def backup(self) -> LibraryBackup:
        """What Plex's scheduled backup task saves now (restore it with `restore`)."""
        return self.library.backup()

    def restore(self, saved: LibraryBackup) -> None:
        """Plex's database is restored from `saved`: items' metadata and `updatedAt` go back."""
        self.library.restore(saved)

    def video_xml(self, rating_key: int) -> str:
        """One item as a listing shows it (tags cut short); empty if unknown."""
        return self._video(rating_key, full=False)

    def remove_movie(self, rating_key: int) -> None:
        """The movie is deleted from the library (a moved file re-added gets a new key)."""
        self.library.remove_movie(rating_key)

    def add_pending(self, file: str, title: str | None = None) -> None:
        """A movie that appears when a scan (``section.update(path=...)``) covers its folder."""
        self.library.add_pending(file, title)

    # -- routing -------------------------------------------------------------------------------
    def _match(self, path: str) -> tuple[str, dict[str, str]] | None:
        for pattern, template in _ROUTES:
            found = pattern.match(path)
            if found:
                return template, found.groupdict()
        return None

    def route(self, request: Request) -> str:
        matched = self._match(request.path)
        return f"{request.method} {matched[0] if matched else '<unmatched>'}"

    def handle(self, request: Request) -> Response:
        response = self._answer(request)
        # An origin server with a clock sends Date on its answers (RFC 9110 section 6.6.1);
        # the engine reads Plex's clock from it after an edit.
        response.headers.setdefault("Date", email.utils.formatdate(self.library.now(), usegmt=True))
        return response

    def _answer(self, request: Request) -> Response:
        if self.login_page:
            return Response(200, LOGIN_PAGE, "text/html; charset=utf-8")
        token = request.header("X-Plex-Token") or request.param("X-Plex-Token")
        open_route = request.path.rstrip("/") == "/identity" and request.method in ("GET", "HEAD")
        if token != self.token and not open_route:
            return Response(
                401, b"<html><head><title>Unauthorized</title></head></html>", "text/html"
            )
        matched = self._match(request.path)
        if matched is None:
            raise SimError(404, "not found")
        template, groups = matched
        handler = _HANDLERS.get((request.method if request.method != "HEAD" else "GET", template))
        if handler is None:
            raise SimError(405, "method not allowed")
        section = groups.get("section")
        if section is not None and section not in (SECTION_ID, "all"):
            raise SimError(404, f"no library section {section}")
        return handler(self, request, groups)

    # -- server and sections -------------------------------------------------------------------
    def _root(self, request: Request, groups: dict[str, str]) -> Response:
        return _xml(
            container(
                ['<Directory count="1" key="library" title="library" />\n'],
                size=1,
                friendlyName="PlexSync Simulator",
                machineIdentifier=self.machine_identifier,
                version=SERVER_VERSION,
                platform="Linux",
                platformVersion="6.1",
                myPlex=0,
                allowSync=1,
                transcoderActiveVideoSessions=0,
                updatedAt=self._started_at,
            )
        )

    def _identity(self, request: Request, groups: dict[str, str]) -> Response:
        return _xml(
            container(
                [],
                size=0,
                apiVersion="1.1.1",
                claimed=1,
                machineIdentifier=self.machine_identifier,
                version=SERVER_VERSION,
            )
        )

    def _library(self, request: Request, groups: dict[str, str]) -> Response:
        children = [
            '<Directory key="sections" title="Library Sections" />\n',
            '<Directory key="recentlyAdded" title="Recently Added Content" />\n',
            '<Directory key="onDeck" title="On Deck Content" />\n',
        ]
        return _xml(
            container(children, size=3, allowSync=0, identifier=_IDENT, title1="Plex Library")
        )

    def _sections(self, request: Request, groups: dict[str, str]) -> Response:
        directory = section_directory(
            SECTION_ID, self.section_title, self.path_prefix, self._started_at
        )
        return _xml(container([directory], size=1, allowSync=0, title1="Plex Library"))

    def _section(self, request: Request, groups: dict[str, str]) -> Response:
        children = [
            '<Directory key="all" title="All Movies" />\n',
            '<Directory key="recentlyAdded" title="Recently Added" />\n',
        ]
        return _xml(container(children, size=2, librarySectionID=SECTION_ID))

    # -- listing and items ---------------------------------------------------------------------
    def _listing(self, request: Request, groups: dict[str, str]) -> Response:
        query = parse_listing(request)
        lib = self.library
        with lib.lock:
            keys = select(lib, query)
            chosen = page(keys, query)
            videos = [self._video(rk, full=False) for rk in chosen]
        children = [filter_meta(SECTION_ID)] if request.param("includeMeta") == "1" else []
        return _xml(
            container(
                children + videos,
                size=len(videos),
                totalSize=len(keys),
                offset=query.start,
                allowSync=1,
                identifier=_IDENT,
                librarySectionID=SECTION_ID,
                librarySectionTitle=self.section_title,
                librarySectionUUID=SECTION_UUID,
                title1=self.section_title,
                viewGroup="movie",
            )
        )

    def _video(self, rating_key: int, *, full: bool) -> str:
        movie = self.library.get(rating_key)
        if movie is None:
            return ""
        return video(movie, full=full, section_id=SECTION_ID, section_title=self.section_title)

    def _metadata(self, request: Request, groups: dict[str, str]) -> Response:
        keys = [int(part) for part in groups["keys"].split(",") if part]
        with self.library.lock:
            videos = [xml for rk in keys if (xml := self._video(rk, full=True))]
        if not videos:
            raise SimError(404, "no such item")
        return _xml(
            container(
                videos,
                size=len(videos),
                allowSync=1,
                identifier=_IDENT,
                librarySectionID=SECTION_ID,
                librarySectionTitle=self.section_title,
                librarySectionUUID=SECTION_UUID,
            )
        )

    # -- commands ------------------------------------------------------------------------------
    def _edit(self, request: Request, groups: dict[str, str]) -> Response:
        plan = parse_edit(request.query)
        lib = self.library
        with lib.lock:
            missing = [rk for rk in plan.ids if lib.get(rk) is None]
            if missing:
                raise SimError(404, f"no such item(s): {missing}")
            now = lib.now()
            for rk in plan.ids:
                apply_edit(lib.mutable(rk), plan, now)
        self._announce(plan.ids, created=False)
        return Response(200)

    def _rate(self, request: Request, groups: dict[str, str]) -> Response:
        """``PUT /:/rate?key=..&identifier=com.plexapp.plugins.library&rating=0-10`` (plexapi
        `RatingMixin.rate`; -1 clears). The rating is the token's account's: the simulator has
        one account. It leaves ``updatedAt`` alone (an assumption, docs/design.md: Plex keeps
        per-account ratings apart from the item)."""
        if request.param("identifier") != _IDENT:
            raise SimError(400, "identifier must be com.plexapp.plugins.library")
        key, text = request.param("key") or "", request.param("rating") or ""
        try:
            rating = float(text)
        except ValueError:
            raise SimError(400, f"rating {text!r} is not a number") from None
        if rating != -1 and not 0 <= rating <= 10:
            raise SimError(400, "rating must be from 0 to 10, or -1")
        if not key.isdigit() or self.library.get(int(key)) is None:
            raise SimError(404, "no such item")
        with self.library.lock:
            movie = self.library.mutable(int(key))
            if rating == -1:
                movie.fields.pop("userRating", None)
            else:
                movie.fields["userRating"] = f"{rating:.1f}"
        return Response(200)

    def _upload(self, request: Request, groups: dict[str, str]) -> Response:
        rating_key = int(groups["keys"])
        if self.library.get(rating_key) is None:
            raise SimError(404, "no such item")
        url = request.param("url")
        data = _fetch(url) if url else request.body
        if not url and not data:
            raise SimError(400, "no image: send bytes in the body or ?url=")
        digest = hashlib.sha256(data).hexdigest() if data else None
        with self.library.lock:
            movie = self.library.mutable(rating_key)
            if request.path.endswith("/arts"):
                movie.art_sha256 = digest
            else:
                movie.poster_sha256 = digest
                movie.poster_url = url
            movie.updated_at = max(self.library.now(), movie.updated_at)
        return Response(200)

    def _refresh(self, request: Request, groups: dict[str, str]) -> Response:
        if request.method == "GET" and request.param("force") is None:
            with self.library.lock:
                self._scans.append(request.param("path"))
            activity = self.notifier.new_activity()
            self.notifier.scan("started", activity)
            added = self.library.scan(request.param("path"))
            if added:
                logger.info("scan added %d movie(s)", len(added))
            if self.agent is not None:  # as real PMS: the scan goes on after the answer
                self._announce_created(added)
                self.agent.process(added, then=lambda: self.notifier.scan("ended", activity))
                return Response(200)
            self._announce(added, created=True)
            self.notifier.scan("ended", activity)
        return Response(200)

    def _notifications(self, request: Request, groups: dict[str, str]) -> Response:
        if not is_upgrade(request):
            raise SimError(400, "a websocket endpoint")
        return self.notifier.upgrade()

    def _announce(self, rating_keys: list[int], *, created: bool) -> None:
        """Timeline notifications for added or edited items (see ``ws_plex``)."""
        lib = self.library
        with lib.lock:
            items = [(rk, lib.field_value(rk, "title"), lib.updated_at(rk)) for rk in rating_keys]
        self.notifier.items_changed(items, created=created)

    def _announce_created(self, rating_keys: list[int]) -> None:
        lib = self.library
        with lib.lock:
            items = [(rk, lib.field_value(rk, "title"), lib.updated_at(rk)) for rk in rating_keys]
        self.notifier.items_created(items)

    def _item_refresh(self, request: Request, groups: dict[str, str]) -> Response:
        if self.library.get(int(groups["keys"])) is None:
            raise SimError(404, "no such item")
        return Response(200)

    # -- control -------------------------------------------------------------------------------
    def control(self, request: Request) -> Response | None:
        path = request.path.rstrip("/")
        if request.method == "GET" and path == "/__sim__/items":
            return json_response(self.items())
        if request.method == "GET" and path.startswith("/__sim__/items/"):
            try:
                found = self.item(int(path.rsplit("/", 1)[1]))
            except ValueError as exc:
                raise SimError(400, "rating keys are integers") from exc
            if found is None:
                raise SimError(404, "no such item")
            return json_response(found)
        if request.method == "POST" and path == "/__sim__/backup":
            self.backups.append(self.backup())
            return json_response({"backup": len(self.backups) - 1})
        if request.method == "POST" and path == "/__sim__/restore":
            number = request.json().get("backup")
            if not isinstance(number, int) or not 0 <= number < len(self.backups):
                raise SimError(400, 'body must be {"backup": <a number /__sim__/backup gave>}')
            self.restore(self.backups[number])
            return json_response({"restored": number})
        if path == "/__sim__/login_page" and request.method in ("POST", "DELETE"):
            self.login_page = request.method == "POST"
            return json_response({"login_page": self.login_page})
        if request.method == "POST" and path in ("/__sim__/movies", "/__sim__/pending"):
            payload = request.json()
            file, title = payload.get("file"), payload.get("title")
            if not isinstance(file, str) or not file or not isinstance(title, (str, type(None))):
                raise SimError(400, 'body must be {"file": "<path>", "title": "<optional>"}')
            if path.endswith("/pending"):
                self.add_pending(file, title)
                return json_response({"pending": file})
            return json_response({"ratingKey": self.add_movie(file, title)})
        return None


_IDENT = "com.plexapp.plugins.library"
# A reverse proxy's sign-in page (well-formed, so plexapi parses it without an error).
LOGIN_PAGE = (
    b"<html><head><title>Sign in</title></head><body><form method='post' action='/login'>"
    b"<input name='user'/><input name='password' type='password'/></form></body></html>"
)


def _xml(body: bytes) -> Response:
    return Response(200, body, XML_TYPE)


def _fetch(url: str) -> bytes:
    """Download a poster like PMS does for ``?url=``; failures leave no image (still 200)."""
    if not url.startswith(("http://", "https://")):
        raise SimError(400, "poster url must be http(s)")
    try:
        with urllib.request.urlopen(url, timeout=POSTER_FETCH_TIMEOUT) as answer:
            return bytes(answer.read(16 * 1024 * 1024))
    except OSError as exc:
        logger.warning("poster download failed: %s", exc)
        return b""


_Handler = Callable[[PlexSimulator, Request, dict[str, str]], Response]
_HANDLERS: dict[tuple[str, str], _Handler] = {
    ("GET", "/"): PlexSimulator._root,
    ("GET", "/identity"): PlexSimulator._identity,
    ("GET", "/library"): PlexSimulator._library,
    ("GET", "/library/sections"): PlexSimulator._sections,
    ("GET", "/library/sections/{id}"): PlexSimulator._section,
    ("GET", "/library/sections/{id}/all"): PlexSimulator._listing,
    ("PUT", "/library/sections/{id}/all"): PlexSimulator._edit,
    ("GET", "/library/sections/{id}/collections"): plex_collections.section_collections,
    ("POST", "/library/collections"): plex_collections.create,
    ("GET", "/library/collections/{id}"): plex_collections.show,
    ("GET", "/library/collections/{id}/children"): plex_collections.children,
    ("PUT", "/library/collections/{id}/items"): plex_collections.add_items,
    ("DELETE", "/library/collections/{id}/items/{itemId}"): plex_collections.remove_item,
    ("GET", "/library/sections/{id}/refresh"): PlexSimulator._refresh,
    ("DELETE", "/library/sections/{id}/refresh"): PlexSimulator._refresh,
    ("GET", "/library/metadata/{ids}"): PlexSimulator._metadata,
    ("POST", "/library/metadata/{id}/posters"): PlexSimulator._upload,
    ("POST", "/library/metadata/{id}/arts"): PlexSimulator._upload,
    ("PUT", "/library/metadata/{id}/refresh"): PlexSimulator._item_refresh,
    ("GET", "/:/websockets/notifications"): PlexSimulator._notifications,
    ("PUT", "/:/rate"): PlexSimulator._rate,
}
