"""A small GraphQL client for Stash: ApiKey header, explicit timeouts, classified errors.

This module is the one boundary where requests and GraphQL failures become engine errors.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from engine.config import PlexSyncConfig
from engine.errors import AuthError, PermanentError, SyncError, TransientError, UnreachableError
from engine.http import configured_session, tls_failure

logger = logging.getLogger(__name__)

STASH_TIMEOUT = (5.0, 30.0)
PAGE_SIZE = 500
SCENE_FIELDS = (
    "id title details date updated_at studio { name } performers { name } tags { name }"
    " files { path } paths { screenshot }"
)
FIND_SCENES = (
    "query FindScenes($filter: FindFilterType, $scene_filter: SceneFilterType) {"
    " findScenes(filter: $filter, scene_filter: $scene_filter) {"
    f" count scenes {{ {SCENE_FIELDS} }} }} }}"
)
VERSION = "query Version { version { version } }"
TRANSIENT_GRAPHQL = ("database is locked", "busy", "timeout", "temporarily")
# Raster formats Stash stores covers in (what Plex can show as a poster); WebP is checked apart.
RASTER_SIGNATURES = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"))


@dataclass(frozen=True)
class StashScene:
    """One scene as the engine queues it: plain data, JSON-serialisable via `payload()`."""

    id: str
    title: str
    details: str
    date: str
    studio: str
    performers: tuple[str, ...]
    tags: tuple[str, ...]
    files: tuple[str, ...]
    screenshot: str
    updated_at: str

    @property
    def has_metadata(self) -> bool:
        """More than a file: what identification or a user adds (the title alone is not enough,
        a scan sets it from the file name)."""
        return bool(self.studio or self.performers or self.tags or self.details or self.date)

    def payload(self) -> dict[str, Any]:
        """The scene's metadata; `updated_at` is left out so a touch without edits is a no-op."""
        return {
            "id": self.id,
            "title": self.title,
            "details": self.details,
            "date": self.date,
            "studio": self.studio,
            "performers": list(self.performers),
            "tags": list(self.tags),
            "files": list(self.files),
            "screenshot": self.screenshot,
        }


def parse_scene(raw: Any) -> StashScene:
    """Validate one scene from Stash's answer; a malformed one raises PermanentError."""
    try:
        if not isinstance(raw, dict) or not raw.get("id"):
            raise ValueError("a scene without an id")

        def names(key: str) -> tuple[str, ...]:
            items = raw.get(key) or []
            return tuple(str(i["name"]).strip() for i in items if i and i.get("name"))

        studio = raw.get("studio") or {}
        paths = raw.get("paths") or {}
        return StashScene(
            id=str(raw["id"]),
            title=str(raw.get("title") or "").strip(),
            details=str(raw.get("details") or ""),
            date=str(raw.get("date") or ""),
            studio=str(studio.get("name") or "").strip(),
            performers=names("performers"),
            tags=names("tags"),
            files=tuple(str(f["path"]) for f in raw.get("files") or [] if f and f.get("path")),
            screenshot=str(paths.get("screenshot") or ""),
            updated_at=str(raw.get("updated_at") or ""),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise PermanentError("Stash sent a malformed scene", str(exc)) from exc


def watermark_minus(watermark: str, seconds: float) -> str:
    """The watermark moved back by `seconds`, written in the same offset as Stash wrote it.

    Stash compares these timestamps as text, so the query value must keep Stash's own format.
    """
    text = watermark.strip()
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    earlier = parsed - dt.timedelta(seconds=seconds)
    if parsed.tzinfo is None:
        return earlier.isoformat(timespec="seconds")
    result = earlier.isoformat(timespec="seconds")
    return result.replace("+00:00", "Z") if text.endswith("Z") else result


class StashClient:
    def __init__(
        self,
        config: PlexSyncConfig,
        *,
        session_factory: Callable[[], requests.Session] = requests.Session,
        timeout: tuple[float, float] = STASH_TIMEOUT,
    ) -> None:
        self._url = config.stash_url
        self._session = configured_session(
            session_factory(), self._url, ca_bundle=config.stash_ca_bundle
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
            raise _tls_error(exc) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise UnreachableError("Stash is unreachable", type(exc).__name__) from exc
        except requests.RequestException as exc:
            raise TransientError("Stash request failed", type(exc).__name__) from exc
        self._check_status(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientError("Stash sent a broken answer", "not JSON") from exc
        if not isinstance(body, dict):
            raise TransientError("Stash sent a broken answer", "not a JSON object")
        errors = body.get("errors")
        if errors:
            message = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
            if any(word in message.lower() for word in TRANSIENT_GRAPHQL):
                raise TransientError("Stash is busy", message[:300])
            raise PermanentError("Stash rejected the query", message[:300])
        data = body.get("data")
        if not isinstance(data, dict):
            raise TransientError("Stash sent a broken answer", "no data")
        return data

    @staticmethod
    def _check_status(response: requests.Response) -> None:
        code = response.status_code
        if code in (401, 403):
            raise AuthError("Stash rejected the API key", f"HTTP {code}", service="stash")
        if code == 429 or code >= 500:
            raise TransientError(f"Stash answered {code}", response.reason or "")
        if code == 422:
            raise PermanentError("Stash rejected the query", response.text[:300])
        if code != 200:
            raise PermanentError(f"Stash answered {code}", response.reason or "")

    def version(self) -> str:
        data = self._post(VERSION)
        try:
            return str(data["version"]["version"])
        except (KeyError, TypeError) as exc:
            raise TransientError("Stash sent a broken answer", "no version") from exc

    def changed_scenes(
        self, since: str | None, *, page_size: int = PAGE_SIZE
    ) -> Iterator[list[StashScene]]:
        """Pages of scenes updated after `since` (a Stash timestamp), oldest change first.

        Malformed scenes are logged and skipped; they do not stop the rest of the page.
        """
        scene_filter: dict[str, Any] = {}
        if since:
            scene_filter["updated_at"] = {"value": since, "modifier": "GREATER_THAN"}
        page = 1
        while True:
            variables = {
                "filter": {
                    "page": page,
                    "per_page": page_size,
                    "sort": "updated_at",
                    "direction": "ASC",
                },
                "scene_filter": scene_filter,
            }
            data = self._post(FIND_SCENES, variables)
            try:
                found = data["findScenes"]
                raw_scenes = list(found["scenes"] or [])
                total = int(found["count"])
            except (KeyError, TypeError, ValueError) as exc:
                raise TransientError("Stash sent a broken answer", "no findScenes") from exc
            scenes = []
            for raw in raw_scenes:
                try:
                    scenes.append(parse_scene(raw))
                except SyncError as exc:
                    logger.warning("Skipping a scene Stash sent: %s", exc.message)
            yield scenes
            if not raw_scenes or page * page_size >= total:
                return
            page += 1

    def fetch_image(self, url: str) -> bytes:
        """A screenshot's raster bytes; b"" for Stash's placeholder (the scene has no cover).

        Downloaded with our ApiKey (never embedded in a URL Plex would store).
        """
        try:
            response = self._session.get(url, timeout=self._timeout)
        except requests.exceptions.SSLError as exc:
            raise _tls_error(exc) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise UnreachableError("Stash is unreachable", type(exc).__name__) from exc
        except requests.RequestException as exc:
            raise TransientError("Stash image download failed", type(exc).__name__) from exc
        self._check_status(response)
        return poster_bytes(response.headers.get("Content-Type"), response.content)


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
    raise TransientError("Stash sent something that is not an image", f"{shown}, {len(data)} bytes")


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
