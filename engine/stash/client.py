"""A small GraphQL client for Stash: ApiKey header, explicit timeouts, classified errors.

This module is the one boundary where requests and GraphQL failures become engine errors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, NoReturn

import requests

from engine.clock import SYSTEM_CLOCK, Clock
from engine.config.file import PlexSyncConfig
from engine.errors import (
    AuthError,
    PermanentError,
    StashGoneError,
    StashQueryError,
    SyncError,
    TransientError,
    UnreachableError,
)
from engine.http.limits import (
    IMAGE_LIMITS,
    AnswerTooLargeError,
    AnswerTooSlowError,
    Deadline,
)
from engine.http.session import (
    configured_session,
    http_epoch,
    network_failure,
    read_answer,
    tls_failure,
)
from engine.stash.keyset import in_offset_of, offset_of, watermark_minus
from engine.stash.objects import (
    FAR_FUTURE,
    ObjectPage,
    carrying_filter,
    ids_request,
    object_page_request,
    parse_ids,
    parse_object_page,
)
from engine.stash.scene import (
    PageQuery,
    ScenePage,
    Screenshot,
    StashScene,
    malformed,
    parse_scene,
)

logger = logging.getLogger(__name__)

__all__ = [
    "StashClient",
    "StashScene",
    "in_offset_of",
    "offset_of",
    "parse_scene",
    "poster_bytes",
    "test_stash_connection",
    "watermark_minus",
]

STASH_TIMEOUT = (5.0, 30.0)
SCENE_FIELDS = (
    "id title code details director date rating100 created_at updated_at organized urls"
    " stash_ids { stash_id } studio { name parent_studio { name } }"
    " performers { name tags { name } } tags { name parents { name parents { name } } }"
    " groups { group { name } scene_index }"
    " files { path } paths { screenshot }"
)
FIND_SCENES = (
    "query FindScenes($filter: FindFilterType, $scene_filter: SceneFilterType) {"
    " findScenes(filter: $filter, scene_filter: $scene_filter) {"
    f" scenes {{ {SCENE_FIELDS} }} }} }}"
)
VERSION = "query Version { version { version } }"
SCENES_PER_LOOKUP = 50  # aliased findScene lookups in one request
# Resolver errors that mean Stash is busy or stopping, not that the request is wrong: SQLite's
# busy and locked errors (mattn/go-sqlite3 error strings), Go's database/sql errors of a database
# being closed while Stash shuts down or restores, and a request cut off by Stash's deadlines.
BUSY = re.compile(
    r"database is locked|database table is locked|SQLITE_BUSY|context deadline exceeded"
    r"|context canceled|i/o timeout|sql: (?:connection|database) is (?:already )?closed",
    re.IGNORECASE,
)
# pkg/sqlite's FindMany and Find: "<kind> with id <n> not found" (tag.go, scene.go, ...).
GONE = re.compile(r"\bwith id \S+ not found\b")
# Raster formats Stash stores covers in (what Plex can show as a poster); WebP is checked apart.
RASTER_SIGNATURES = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"))


class StashClient:
    def __init__(
        self,
        config: PlexSyncConfig,
        *,
        session_factory: Callable[[], requests.Session] = requests.Session,
        timeout: tuple[float, float] = STASH_TIMEOUT,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._url = config.stash_url
        self._clock = clock
        self._session = configured_session(
            session_factory(), self._url, ca_bundle=config.stash_ca_bundle, clock=clock
        )
        self._timeout = timeout
        key = config.stash_api_key.get_secret_value() if config.stash_api_key else ""
        self._session.headers.update({"Accept": "application/json"})
        if key:
            self._session.headers["ApiKey"] = key

    def close(self) -> None:
        self._session.close()

    def _post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._session.post(
                f"{self._url}/graphql",
                json={"query": query, "variables": variables or {}},
                timeout=self._timeout,
            )
        except requests.exceptions.SSLError as exc:
            _fail(_tls_error(exc), exc)
        except (requests.ConnectionError, requests.Timeout) as exc:
            _fail(UnreachableError("Stash is unreachable", network_failure(exc, self._url)), exc)
        except (AnswerTooLargeError, AnswerTooSlowError) as exc:
            _fail(_refused(exc, "a GraphQL query"), exc)
        except requests.RequestException as exc:
            _fail(TransientError("Stash request failed", type(exc).__name__), exc)
        self._check_status(response)
        try:
            body = response.json()
        except ValueError as exc:
            _fail(_not_stash(response), exc)
        if not isinstance(body, dict):
            _fail(TransientError("Stash sent a broken answer", "not a JSON object"))
        errors = body.get("errors")
        if errors:
            _fail(_graphql_error(errors))
        data = body.get("data")
        if not isinstance(data, dict):
            _fail(TransientError("Stash sent a broken answer", "no data"))
        return data

    @staticmethod
    def _check_status(response: requests.Response) -> None:
        code = response.status_code
        if code in (401, 403):
            raise AuthError("Stash rejected the API key", f"HTTP {code}", service="stash")
        if code == 429 or code >= 500:
            _fail(TransientError(f"Stash answered {code}", response.reason or ""))
        if code == 422:
            _fail(PermanentError("Stash rejected the query", response.text[:300]))
        if code in (404, 405):  # Stash always serves POST /graphql: another server is there
            _fail(_not_stash(response, f"HTTP {code} for /graphql"))
        if code != 200:
            _fail(PermanentError(f"Stash answered {code}", response.reason or ""))

    def version(self) -> str:
        data = self._post(VERSION)
        try:
            return str(data["version"]["version"])
        except (KeyError, TypeError) as exc:
            _fail(TransientError("Stash sent a broken answer", "no version"), exc)

    def scene_page(self, query: PageQuery) -> ScenePage:
        """One page of scenes for a keyset poll (see `PageQuery`), oldest change first.

        A scene that breaks Stash's schema is returned as malformed; the rest of the page stands.
        """
        return self._scenes(page_variables(query))

    def _scenes(self, variables: dict[str, Any]) -> ScenePage:
        data = self._post(FIND_SCENES, variables)
        try:
            raw_scenes = list(data["findScenes"]["scenes"] or [])
        except (KeyError, TypeError) as exc:
            _fail(TransientError("Stash sent a broken answer", "no findScenes"), exc)
        return self._parse_scenes(raw_scenes)

    @staticmethod
    def _parse_scenes(raw_scenes: list[Any]) -> ScenePage:
        scenes, broken, keys = [], [], []
        for raw in raw_scenes:
            try:
                scene = parse_scene(raw)
            except PermanentError as exc:
                bad = malformed(raw, exc)
                broken.append(bad)
                if bad.id and bad.updated_at:
                    keys.append((bad.id, bad.updated_at))
                continue
            scenes.append(scene)
            keys.append((scene.id, scene.updated_at))
        return ScenePage(tuple(scenes), tuple(broken), len(raw_scenes), tuple(keys))

    def object_page(self, kind: str, query: PageQuery) -> ObjectPage:
        """One page of a keyset poll over tags, performers or studios (`kind`)."""
        return parse_object_page(kind, self._post(*object_page_request(kind, query)))

    def object_ids(self, kind: str) -> set[str]:
        """Every id of `kind` (tag, performer, studio) Stash has now."""
        return parse_ids(kind, self._post(*ids_request(kind)))

    def scenes_carrying(self, kind: str, ids: list[str], after_id: int, size: int) -> ScenePage:
        """Scenes that carry any of these objects, by id above `after_id` (a keyset on id:
        an edit between pages moves no scene past the cursor)."""
        return self._scenes(carrying_variables(kind, ids, after_id, size))

    def scenes_by_id(self, ids: list[str]) -> ScenePage:
        """These scenes as Stash has them now (gone ones are absent).

        Aliased `findScene(id:)` lookups, each null for a scene Stash no longer has
        (internal/api/resolver_query_find_scene.go `FindScene`): `findScenes(ids:)` would fail
        the whole query on the first missing one ("scene with id 7 not found",
        pkg/sqlite/scene.go `FindMany`).
        """
        raw: list[Any] = []
        for start in range(0, len(ids), SCENES_PER_LOOKUP):
            chunk = ids[start : start + SCENES_PER_LOOKUP]
            data = self._post(*scene_lookup_request(chunk))
            for n in range(len(chunk)):
                if f"s{n}" not in data:
                    _fail(TransientError("Stash sent a broken answer", "no findScene"))
                if data[f"s{n}"] is not None:
                    raw.append(data[f"s{n}"])
        return self._parse_scenes(raw)

    def fetch_image(self, url: str) -> Screenshot:
        """A screenshot's raster bytes (b"" for Stash's placeholder: the scene has no cover) and
        Stash's clock when it served them.

        Downloaded with our ApiKey (never embedded in a URL Plex would store), and refused past
        `MAX_IMAGE_BYTES` (engine/http/limits.py says why that size).
        """
        deadline = Deadline(self._clock, IMAGE_LIMITS.seconds)
        try:
            response = self._session.get(url, timeout=self._timeout, stream=True)
            read_answer(response, IMAGE_LIMITS, deadline)
        except requests.exceptions.SSLError as exc:
            _fail(_tls_error(exc), exc)
        except (requests.ConnectionError, requests.Timeout) as exc:
            _fail(UnreachableError("Stash is unreachable", network_failure(exc, self._url)), exc)
        except (AnswerTooLargeError, AnswerTooSlowError) as exc:
            _fail(_refused(exc, "an image download"), exc)
        except requests.RequestException as exc:
            _fail(TransientError("Stash image download failed", type(exc).__name__), exc)
        self._check_status(response)
        data = poster_bytes(response.headers.get("Content-Type"), response.content)
        return Screenshot(data, http_epoch(response.headers.get("Date")))


def _fail(error: SyncError, cause: BaseException | None = None) -> NoReturn:
    """Raise `error` as Stash's: it never counts against Plex's breaker."""
    error.service = "stash"
    raise error from cause


def carrying_variables(kind: str, ids: list[str], after_id: int, size: int) -> dict[str, Any]:
    """`FIND_SCENES` variables for scenes carrying any of `ids`, by id above `after_id`."""
    scene_filter = carrying_filter(kind, ids)
    scene_filter["id"] = {"value": after_id, "modifier": "GREATER_THAN"}
    return {
        "filter": {"page": 1, "per_page": size, "sort": "id", "direction": "ASC"},
        "scene_filter": scene_filter,
    }


def scene_lookup_request(ids: list[str]) -> tuple[str, dict[str, Any]]:
    """Aliased `findScene(id:)` lookups of these scenes (see `StashClient.scenes_by_id`)."""
    params = ", ".join(f"$i{n}: ID" for n in range(len(ids)))
    fields = " ".join(f"s{n}: findScene(id: $i{n}) {{ {SCENE_FIELDS} }}" for n in range(len(ids)))
    return f"query ScenesById({params}) {{ {fields} }}", {f"i{n}": i for n, i in enumerate(ids)}


def _graphql_error(errors: Any) -> SyncError:
    """What GraphQL errors inside a 200 mean.

    gqlgen answers a query it cannot accept with 422 (handled in `_check_status`); errors inside
    a 200 come from resolvers (stashapp/stash internal/api/server.go uses gqlgen's default
    handler). SQLite's "database is locked" while Stash scans is Stash being busy: retried like
    an outage. "… with id N not found" and every other resolver error are answers about this
    request: it fails with Stash's own words, and Stash is not down.
    """
    items = errors if isinstance(errors, list) else [errors]
    messages = [str(e.get("message", e)) for e in items if isinstance(e, dict)]
    message = "; ".join(messages)[:300] or "an error without a message"
    if any(BUSY.search(m) for m in messages):
        return TransientError("Stash is busy", message)
    if messages and all(GONE.search(m) for m in messages):
        return StashGoneError("Stash no longer has it", message)
    return StashQueryError("Stash refused the request", message)


def page_variables(query: PageQuery) -> dict[str, Any]:
    """`findScenes` variables: always page 1, the position is in the filter (keyset)."""
    scene_filter: dict[str, Any] = {}
    sort = "updated_at"
    if query.group_after_id is not None and query.after is not None:
        # Within one timestamp, by id: `sort: "id"` is Stash's getSort default branch
        # (stashapp/stash pkg/sqlite/scene.go setSceneSort).
        scene_filter["updated_at"] = {"value": query.after, "modifier": "EQUALS"}
        scene_filter["id"] = {"value": query.group_after_id, "modifier": "GREATER_THAN"}
        sort = "id"
    elif query.after is not None and query.inclusive:
        # Timestamps compare as text, BETWEEN is inclusive (pkg/sqlite/sql.go
        # getTimestampWhereClause): this is "updated_at >= after".
        scene_filter["updated_at"] = {
            "value": query.after,
            "value2": FAR_FUTURE,
            "modifier": "BETWEEN",
        }
    elif query.after is not None:
        scene_filter["updated_at"] = {"value": query.after, "modifier": "GREATER_THAN"}
    return {
        "filter": {"page": 1, "per_page": query.size, "sort": sort, "direction": "ASC"},
        "scene_filter": scene_filter,
    }


def _raster_kind(data: bytes) -> str | None:
    for signature, kind in RASTER_SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def poster_bytes(content_type: str | None, data: bytes) -> bytes:
    """Only a real raster image is a poster. An SVG is Stash's placeholder for a scene without a
    cover (its default `scene.svg`, status 200: stashapp/stash
    `internal/manager/running_streams.go`); anything else (a proxy's page) is a failure."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    head = data[:256].lstrip().lower()
    if (
        media_type == "image/svg+xml"
        or head.startswith(b"<svg")
        or (head.startswith(b"<?xml") and b"<svg" in data[:1024].lower())
    ):
        return b""
    if media_type.startswith("image/") and _raster_kind(data) is not None:
        return data
    shown = media_type or "no content type"
    _fail(
        TransientError("Stash sent something that is not an image", f"{shown}, {len(data)} bytes")
    )


def _not_stash(response: requests.Response, what: str = "") -> UnreachableError:
    """A 200 that is not JSON: a proxy's login page or another web app at that address, never
    Stash (gqlgen answers every POST to /graphql with JSON), so it counts like an outage."""
    media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
    kind = "a web page" if "html" in media_type else media_type or "no content type"
    return UnreachableError(
        "Stash's address answered with something that is not Stash",
        f"{what or kind + ' in answer to a GraphQL query'}; a proxy or login page in the way? "
        "Check the Stash URL",
    )


def _refused(exc: BaseException, what: str) -> TransientError:
    """An answer over its size or time limit: Stash (or a proxy before it) misbehaving, not an
    outage; retried later like a broken answer."""
    return TransientError(f"Stash's answer to {what} was refused", str(exc))


def _tls_error(exc: BaseException) -> UnreachableError:
    message = tls_failure(exc, "stash_ca_bundle") or ""
    return UnreachableError("Stash's TLS certificate was not accepted", message)


def test_stash_connection(config: PlexSyncConfig) -> str:
    """For the settings dialog: Stash's version, or a SyncError in plain words."""
    client = StashClient(config)
    try:
        return client.version()
    finally:
        client.close()


test_stash_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
