"""Plex through plexapi: one HTTP transport, explicit timeouts, our own client identity.

This module is the one boundary where plexapi and requests exceptions become engine errors.
Listings are read as XML through `PlexServer.query` (plexapi's transport, headers and status
handling) and kept as small records, because building a plexapi object per item costs far more
than the sweep itself on large libraries.
"""

from __future__ import annotations

import email.utils
import os
import re
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus

import requests

from engine import __version__
from engine.clock import SYSTEM_CLOCK, Clock
from engine.config.file import PlexSyncConfig
from engine.errors import (
    AuthError,
    NotFoundError,
    PermanentError,
    SyncError,
    TransientError,
    UnreachableError,
)
from engine.http.limits import AnswerTooLargeError, AnswerTooSlowError
from engine.http.session import configured_session, http_epoch, network_failure, tls_failure
from engine.masking import mask_url
from engine.plex.model import TEXT_FIELDS, PlexItem, PlexSection
from engine.plex.transport import PlexTransport

# plexapi reads a per-user config.ini at import; one with log.show_secrets would put the token in
# URLs. Our process never wants that, so point plexapi at an empty config unless told otherwise.
os.environ.setdefault("PLEXAPI_CONFIG_PATH", os.devnull)

import plexapi
import plexapi.config
from plexapi.exceptions import BadRequest, Unauthorized
from plexapi.exceptions import NotFound as PlexNotFound
from plexapi.server import PlexServer

PRODUCT = "PlexSync Tray"
PAGE_SIZE = 1000
TRANSIENT_CODES = {408, 425, 429, 500, 502, 503, 504}
_STATUS = re.compile(r"^\((\d{3})\)")
_identity_lock = threading.Lock()


def set_client_identity(client_id: str) -> None:
    """Announce ourselves as one persistent device, so Plex does not see a new one per start."""
    with _identity_lock:
        plexapi.X_PLEX_PRODUCT = PRODUCT
        plexapi.X_PLEX_DEVICE_NAME = PRODUCT
        plexapi.X_PLEX_VERSION = __version__
        plexapi.X_PLEX_IDENTIFIER = client_id
        # plexapi.server holds this very dict, so it must be updated in place.
        plexapi.BASE_HEADERS.update(plexapi.config.reset_base_headers())


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - email.utils.localtime().timestamp())


class PlexClient:
    """A connection to one Plex server. Not thread-safe: the engine uses it from one thread."""

    def __init__(
        self,
        config: PlexSyncConfig,
        *,
        session_factory: Callable[[], requests.Session] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._url = config.plex_url
        self._token = config.plex_token.get_secret_value()
        self._timeout = (config.plex_connect_timeout, config.plex_read_timeout)
        self._libraries = [title.casefold() for title in config.plex_libraries]
        # plexapi sends through `session.get/put/post`; ours keeps connections to Plex's origin
        # (plex_transport.py says why). A requests.Session can be injected, as tests do.
        self._session: PlexTransport | requests.Session
        if session_factory is None:
            self._session = PlexTransport(self._url, ca_bundle=config.plex_ca_bundle, clock=clock)
        else:
            self._session = configured_session(
                session_factory(), self._url, ca_bundle=config.plex_ca_bundle, clock=clock
            )
        self._session.hooks["response"].append(self._remember_response)
        self._last_retry_after: float | None = None
        self._last_content_type = ""
        self._last_date: str | None = None
        self._last_location = ""
        self._server: PlexServer | None = None

    def close(self) -> None:
        self._session.close()

    def _remember_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # plexapi drops the response on errors; Retry-After must be read here.
        self._last_retry_after = _retry_after(response.headers.get("Retry-After"))
        self._last_content_type = response.headers.get("Content-Type") or ""
        self._last_date = response.headers.get("Date")
        self._last_location = response.headers.get("Location") or ""

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        self._last_retry_after = None
        try:
            yield
        except SyncError:
            raise
        except Unauthorized as exc:
            raise AuthError("Plex rejected the token", _safe(exc), service="plex") from exc
        except PlexNotFound as exc:
            raise NotFoundError(f"Plex has no such item ({what})", _safe(exc)) from exc
        except BadRequest as exc:
            raise self._from_status(exc, what) from exc
        except requests.exceptions.SSLError as exc:
            message = tls_failure(exc, "plex_ca_bundle") or ""
            raise UnreachableError("Plex's TLS certificate was not accepted", message) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise UnreachableError("Plex is unreachable", network_failure(exc, self._url)) from exc
        except ElementTree.ParseError as exc:
            raise self._not_plex(what) from exc
        except (AnswerTooLargeError, AnswerTooSlowError) as exc:
            # Plex misbehaving (or a proxy before it), not an outage: retried like a 5xx
            raise TransientError(f"Plex's answer to {what} was refused", str(exc)) from exc
        except requests.RequestException as exc:
            raise TransientError("Plex sent a broken answer", type(exc).__name__) from exc
        except TypeError as exc:
            # plexapi fails this way on status codes requests has no name for (520-599).
            raise TransientError("Plex answered with an unknown server error", what) from exc

    def _not_plex(self, what: str) -> UnreachableError:
        """A 200 that Plex did not send (a proxy's login page, a captive portal): Plex itself
        was not reached, so nothing counts as written, jobs keep their attempts, and the breaker
        counts it like an outage."""
        media_type = self._last_content_type.split(";")[0].strip() or "no content type"
        kind = "a web page" if "html" in media_type else media_type
        return UnreachableError(
            "Plex's address answered with something that is not Plex",
            f"{kind} in answer to {what}; a proxy or login page in the way? Check the Plex URL",
        )

    def _checked(
        self, answer: ElementTree.Element | None, what: str, *, write: bool
    ) -> ElementTree.Element | None:
        """Plex answers reads with a MediaContainer and edits/uploads with an empty 200
        (plex-http.md 1e; plexapi `PlexServer.query` parses whatever comes, so check here)."""
        if answer is None and write:
            return None
        if answer is None or answer.tag != "MediaContainer":
            raise self._not_plex(what)
        return answer

    def _redirected(self, code: int, what: str) -> UnreachableError:
        """Real Plex answers API calls itself; a redirect is a proxy or an old address, and it
        is never followed (the token would go with it). Plex was not reached: nothing written."""
        where = mask_url(self._last_location) if self._last_location else "another address"
        return UnreachableError(
            "Plex's address redirects elsewhere",
            f"{code} to {where} in answer to {what}; if that is your Plex, set the Plex URL to it",
        )

    def _from_status(self, exc: BadRequest, what: str) -> SyncError:
        match = _STATUS.match(str(exc))
        if match is None:
            return PermanentError(f"Plex refused {what}", _safe(exc))
        code = int(match.group(1))
        if code == 403:
            return AuthError("Plex rejected the token", "403 forbidden", service="plex")
        if 300 <= code < 400:
            return self._redirected(code, what)
        if code in TRANSIENT_CODES or code >= 500:
            return TransientError(
                f"Plex answered {code} to {what}", _safe(exc), retry_after=self._last_retry_after
            )
        return PermanentError(f"Plex refused {what} ({code})", _safe(exc))

    # --- connection ----------------------------------------------------------------------------

    def server(self) -> PlexServer:
        if self._server is None:
            try:
                with self._translated("the connection"):
                    server = PlexServer(
                        self._url, self._token, session=self._session, timeout=self._timeout
                    )
            except NotFoundError as exc:  # real Plex always answers `/`: this is something else
                raise self._not_plex("the connection") from exc
            if not server.machineIdentifier:  # Plex's root always names the server
                raise self._not_plex("the connection")
            self._server = server
        return self._server

    @property
    def machine_identifier(self) -> str | None:
        """The server's id for links to Plex's web app; None until connected (never a request)."""
        return None if self._server is None else str(self._server.machineIdentifier)

    def _query(
        self, key: str, what: str, *, write: bool = False, **kwargs: Any
    ) -> ElementTree.Element | None:
        server = self.server()
        with self._translated(what):
            result: ElementTree.Element | None = server.query(key, **kwargs)
            return self._checked(result, what, write=write)

    def probe(self) -> None:
        """A cheap health check that needs a valid token: real Plex answers `GET /identity` to
        anyone, so a revoked token would go unnoticed; the section list answers 401 to it."""
        self._query("/library/sections", "the health check")

    def movie_sections(self) -> list[PlexSection]:
        """The configured movie sections (every movie section when none are configured)."""
        data = self._query("/library/sections", "the library list")
        sections = [
            PlexSection(
                str(node.get("key")),
                str(node.get("title") or ""),
                tuple(str(loc.get("path")) for loc in node.iter("Location") if loc.get("path")),
            )
            for node in ([] if data is None else data.iter("Directory"))
            if node.get("type") == "movie"
        ]
        if not self._libraries:
            return sections
        chosen = [s for s in sections if s.title.strip().casefold() in self._libraries]
        missing = set(self._libraries) - {s.title.strip().casefold() for s in chosen}
        if missing:
            names = ", ".join(sorted(missing))
            raise PermanentError("Plex has no such movie library", f"not found: {names}")
        return chosen

    # --- reading -------------------------------------------------------------------------------

    def sweep(
        self, section: PlexSection, *, updated_since: int | None = None
    ) -> Iterator[PlexItem]:
        """Every movie of a section, page by page; or only those added or changed since an
        epoch time of Plex's clock. `updatedAt` is a date filter real Plex accepts though its
        filter catalogue does not list it (python-plexapi `plexapi/library.py`,
        `LibrarySection._manualFields`: "available but not exposed"); date filters take `>>`
        and `<<` (`LibrarySection.search` docstring, "Using Plex Operators")."""
        key = f"/library/sections/{section.key}/all?type=1"
        if updated_since is not None:
            key += f"&updatedAt%3E%3E={int(updated_since)}"
        start = 0
        while True:
            headers = {
                "X-Plex-Container-Start": str(start),
                "X-Plex-Container-Size": str(PAGE_SIZE),
            }
            data = self._query(key, "the library listing", headers=headers)
            if data is None:
                return
            listed = data.get("librarySectionID")
            if listed is not None and listed != section.key:
                raise _other_section(listed, section.key)
            videos = data.findall("Video")
            for node in videos:
                item = _item(node, section.key)
                if item.section_key != section.key:
                    raise _other_section(item.section_key, section.key)
                yield item
            total = int(data.get("totalSize") or data.get("size") or 0)
            start += len(videos)
            if not videos or start >= total:
                return

    def fetch_item(self, rating_key: str, section_key: str) -> PlexItem:
        """The full item, with every tag (listings truncate them)."""
        data = self._query(f"/library/metadata/{rating_key}", "the item")
        node = None if data is None else data.find("Video")
        if node is None:
            raise NotFoundError("Plex has no such item", f"rating key {rating_key}")
        return _asked_for(_item(node, section_key, complete=True), {rating_key}, section_key)

    def fetch_items(self, rating_keys: list[str], section_key: str) -> list[PlexItem]:
        """Several full items in one request (`GET /library/metadata/1,2,3`, as plexapi's
        `PlexServer.fetchItems` sends it); keys Plex no longer has are left out."""
        keys = ",".join(rating_keys)
        try:
            data = self._query(f"/library/metadata/{keys}", "the items")
        except NotFoundError:
            return []
        nodes = [] if data is None else data.findall("Video")
        wanted = set(rating_keys)
        return [
            _asked_for(_item(n, section_key, complete=True), wanted, section_key) for n in nodes
        ]

    # --- writing -------------------------------------------------------------------------------

    def edit(self, item: PlexItem, params: dict[str, str]) -> int | None:
        """All edits of one item in one PUT to its section (how Plex edits work).

        Returns Plex's clock when it answered (its `Date` header), or None without one: the
        item's `updatedAt` is at most that, until someone else changes it."""
        query = {"type": "1", "id": item.rating_key, **params}
        key = f"/library/sections/{item.section_key}/all{_join(query)}"
        server = self.server()
        self._last_date = None
        self._query(key, "the metadata edit", write=True, method=server._session.put)
        return http_epoch(self._last_date)

    def scan_folder(self, section_key: str, folder: str) -> None:
        """Ask Plex to scan one folder of a section: plexapi's `LibrarySection.update(path=)`
        (`plexapi/library.py`, a GET with the path `quote_plus`-encoded). Plex answers at once
        and scans in the background; never a whole-library scan."""
        key = f"/library/sections/{quote(section_key, safe='')}/refresh?path={quote_plus(folder)}"
        self._query(key, "the folder scan", write=True)

    def rate(self, item: PlexItem, rating: float) -> None:
        """The token's account's rating of the item, 0-10, or -1 to clear it: Plex's rate call,
        as plexapi's `RatingMixin.rate` sends it (`plexapi/mixins/rating.py`); the edit field
        `userRating.value` does not take reliably (StashPlexAgent PR #21)."""
        value = f"{rating:g}"
        key = (
            f"/:/rate?key={quote(item.rating_key, safe='')}"
            f"&identifier=com.plexapp.plugins.library&rating={value}"
        )
        server = self.server()
        self._query(key, "the rating", write=True, method=server._session.put)

    def upload_poster(self, item: PlexItem, image: bytes) -> None:
        self._upload(item, "posters", image, "the poster upload")

    def upload_art(self, item: PlexItem, image: bytes) -> None:
        """The background art, as bytes (plexapi `ArtMixin.uploadArt(filepath=)`)."""
        self._upload(item, "arts", image, "the background art upload")

    def _upload(self, item: PlexItem, kind: str, image: bytes, what: str) -> None:
        """Image bytes POSTed to `/library/metadata/{id}/{posters|arts}`, as plexapi's upload
        mixins send them with `filepath=` (Plex never fetches a URL of ours)."""
        server = self.server()
        self._query(
            f"/library/metadata/{item.rating_key}/{kind}",
            what,
            write=True,
            method=server._session.post,
            data=image,
        )


def _asked_for(item: PlexItem, rating_keys: set[str], section_key: str) -> PlexItem:
    """The item, if it is one that was asked for, in the section it was asked in.

    Everything written to an item is planned from what was read, and the edit goes to the
    rating key read (`edit`). An answer meant for another request (a proxy's 1xx answer shifted
    every later answer on a keep-alive connection by one, issue 22: scene 222's edit went to
    item 111) must never become a write: a clear error, retried like a broken answer."""
    if item.section_key != section_key:
        raise _other_section(item.section_key, section_key)
    if item.rating_key not in rating_keys:
        asked = ", ".join(sorted(rating_keys))
        raise TransientError(
            "Plex answered about another item",
            f"asked for {asked}, got {item.rating_key}; nothing was written "
            "(a proxy mixing up answers?)",
        )
    return item


def _other_section(got: str, asked: str) -> TransientError:
    """An answer about another library than the one asked about (see `_asked_for`)."""
    return TransientError(
        "Plex answered about another library",
        f"asked about library {asked}, got library {got}; nothing was written "
        "(a proxy mixing up answers?)",
    )


def _join(params: dict[str, str]) -> str:
    # Same encoding plexapi uses for edits: keys as they are, values fully %-encoded.
    return "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())


def _item(node: ElementTree.Element, section_key: str, *, complete: bool = False) -> PlexItem:
    def tags(name: str) -> tuple[str, ...]:
        return tuple(str(tag.get("tag")) for tag in node.iter(name) if tag.get("tag"))

    return PlexItem(
        rating_key=str(node.get("ratingKey")),
        section_key=str(node.get("librarySectionID") or section_key),
        title=node.get("title") or "",
        studio=node.get("studio") or "",
        summary=node.get("summary") or "",
        originally_available_at=node.get("originallyAvailableAt") or "",
        genres=tags("Genre"),
        actors=tags("Role"),
        collections=tags("Collection"),
        files=tuple(str(part.get("file")) for part in node.iter("Part") if part.get("file")),
        added_at=int(node.get("addedAt") or 0),
        updated_at=int(node.get("updatedAt") or node.get("addedAt") or 0),
        locked=frozenset(
            str(field.get("name")) for field in node.iter("Field") if field.get("locked") == "1"
        ),
        complete=complete,
        directors=tags("Director"),
        labels=tags("Label"),
        texts=tuple((name, node.get(name) or "") for name in TEXT_FIELDS if node.get(name)),
        user_rating=_rating(node.get("userRating")),
    )


def _rating(text: str | None) -> float | None:
    """`userRating` as plexapi reads it (`utils.cast(float, ...)`, `plexapi/video.py`)."""
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value <= 10 else None


def _safe(exc: BaseException) -> str:
    """plexapi messages hold the URL and body; the token is only ever in headers, but be sure."""
    text = str(exc).replace("\n", " ")
    text = re.sub(r"(?i)(x-plex-token=)[^&\s]+", r"\1<hidden>", text)
    return text[:300]


def test_plex_connection(config: PlexSyncConfig) -> list[str]:
    """For the settings dialog: connect and list the server's movie libraries."""
    if not config.plex_url:
        raise PermanentError("No Plex URL", "enter the address of your Plex server")
    client = PlexClient(config.model_copy(update={"plex_libraries": []}))
    try:
        return [section.title for section in client.movie_sections()]
    finally:
        client.close()


test_plex_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
