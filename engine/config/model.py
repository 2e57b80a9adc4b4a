"""The settings model: every field, its range, and the checks that reject unusable values."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializationInfo,
    field_serializer,
    field_validator,
)

from engine.masking import mask_url

SCHEMA_VERSION = 2  # 2: secrets may be keyring references (engine/config/migrate.py)
REVEAL_SECRETS = "reveal_secrets"


def check_url(value: str, *, allow_empty: bool) -> str:
    """An http(s) URL a client can really use: a host, a valid port, no spaces."""
    value = value.strip()
    if not value:
        if allow_empty:
            return ""
        raise ValueError("a URL is required, for example http://localhost:9999")
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError("must not contain spaces, line breaks or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port out of range or not a number
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({_url_reason(exc)})") from None
    if not parts.hostname:
        raise ValueError("must name a host after the scheme")
    if port == 0:
        raise ValueError("the port must be between 1 and 65535")
    return value.rstrip("/")


def _url_reason(exc: ValueError) -> str:
    text = str(exc)
    if "Port" in text or "port" in text:
        return "the port must be a number between 1 and 65535"
    if "IPv6" in text:
        return "an IPv6 address needs its closing ]"
    return text


def check_secret(value: str) -> str:
    """A token or key is sent in an HTTP header: one line of printable ASCII, no spaces."""
    value = value.strip(" ")
    if any(ch in "\r\n" for ch in value):
        raise ValueError("must be a single line (it contains a line break)")
    if not (value.isascii() and value.isprintable()) or " " in value:
        raise ValueError("may hold only printable ASCII characters without spaces")
    return value


def check_ca_bundle(value: str) -> str:
    """Empty (the system's CAs), or a readable certificate file (PEM)."""
    value = value.strip()
    if value and not Path(value).expanduser().is_file():
        raise ValueError("no such file: give the path of a PEM certificate (CA bundle) file")
    return str(Path(value).expanduser()) if value else ""


class PathMapping(BaseModel):
    """Stash sees a file under `stash_prefix`; Plex sees the same file under `plex_prefix`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stash_prefix: Annotated[str, Field(min_length=1)]
    plex_prefix: Annotated[str, Field(min_length=1)]


class PlexSyncConfig(BaseModel):
    """Everything the user can set. Ranges are enforced here and shown by the settings dialog."""

    # hide_input_in_errors: a rejected token must not show up in a ValidationError's text.
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, hide_input_in_errors=True
    )

    schema_version: int = SCHEMA_VERSION

    plex_url: str = ""
    plex_token: SecretStr = SecretStr("")
    plex_libraries: list[str] = Field(default_factory=list)
    plex_ca_bundle: str = ""

    stash_url: str = "http://localhost:9999"
    stash_api_key: SecretStr | None = None
    stash_ca_bundle: str = ""

    poll_interval: Annotated[float, Field(ge=1, le=3600)] = 30.0
    plex_connect_timeout: Annotated[float, Field(ge=1, le=30)] = 5.0
    plex_read_timeout: Annotated[float, Field(ge=1, le=120)] = 30.0

    failure_threshold: Annotated[int, Field(ge=1, le=100)] = 5
    recovery_timeout: Annotated[float, Field(ge=1, le=3600)] = 60.0
    success_threshold: Annotated[int, Field(ge=1, le=10)] = 1

    max_retries: Annotated[int, Field(ge=0, le=20)] = 5
    # The most Plex requests in flight at once; the engine starts at one and adapts (AIMD).
    max_in_flight: Annotated[int, Field(ge=1, le=16)] = 4
    dlq_retention_days: Annotated[int, Field(ge=1, le=365)] = 30

    strict_matching: bool = True
    preserve_plex_edits: bool = False
    skip_not_found: bool = False
    lock_synced_fields: bool = True
    # How often "Check library" compares Stash with Plex on its own (it also runs on demand).
    library_check: Literal["never", "daily", "weekly"] = "weekly"

    path_mappings: list[PathMapping] = Field(default_factory=list)

    sync_title: bool = True
    sync_studio: bool = True
    sync_summary: bool = True
    sync_date: bool = True
    sync_performers: bool = True
    sync_tags: bool = True
    sync_collection: bool = True
    sync_poster: bool = True
    # Stash's `director` as Plex directors (tags we own, like the performers).
    sync_director: bool = True
    # Stash's studio code (`code`) to the Plex field the user picks, or nowhere.
    code_field: Literal["off", "tagline", "originalTitle", "editionTitle"] = "tagline"
    # One content rating for every synced item (e.g. "XXX"); empty leaves Plex's own alone.
    content_rating: Annotated[str, Field(max_length=40)] = ""
    # Plex's "added at" from Stash's `created_at` (off: Plex keeps the time it found the file).
    sync_added_at: bool = False
    # A sort title of the date then the title, so title order is date order (off: Plex's own).
    sync_sort_title: bool = False
    # Stash's rating100 as the Plex user rating of the token's account (`PUT /:/rate`).
    sync_rating: bool = True
    # Stash's tags as Plex genres, labels (listings never cut labels short) or both.
    tags_as: Literal["genres", "labels", "both"] = "genres"
    # The scene's performers' tags as genres too (Stash keeps tags on performers).
    performer_tags_as_genres: bool = False
    # Tag names never sent to Plex (case does not matter).
    tag_exclude: list[str] = Field(default_factory=list)
    # The studio's parent: a second collection ("Parent" or "Parent / Child"), and optionally
    # the studio field itself.
    parent_studio_collection: Literal["off", "parent", "parent_child"] = "off"
    parent_studio_as_studio: bool = False
    # Each Stash group a scene is in becomes a Plex collection of its name (after the prefix).
    sync_groups: bool = True
    group_collection_prefix: Annotated[str, Field(max_length=40)] = ""
    # An excluded tag takes its child tags with it (two levels down, as a scene's answer shows).
    tag_exclude_children: bool = False
    # Tags that also become Plex collections of their own name (besides the studio's).
    tag_collections: list[str] = Field(default_factory=list)
    # Gates: only scenes marked organized, only scenes with a StashID or a URL. A scene that
    # leaves a gate keeps what we wrote in Plex; Recent activity says why it is not synced.
    sync_only_organized: bool = False
    sync_only_identified: bool = False
    # Artwork from the screenshot: the background art too, and the poster's shape (as it is, or
    # a 2:3 poster of it on a blurred fill, made locally).
    sync_art: bool = False
    poster_shape: Literal["as_is", "portrait"] = "as_is"
    # A file Plex does not have yet: ask Plex to scan just its folder (once per folder per hour).
    scan_missing: bool = True

    notifications: bool = True
    # Plex's and Stash's websockets: act within seconds; polling stays as the backstop.
    live_updates: bool = True
    start_at_login: bool = False

    @field_validator("plex_url")
    @classmethod
    def _plex_url(cls, value: str) -> str:
        return check_url(value, allow_empty=True)

    @field_validator("stash_url")
    @classmethod
    def _stash_url(cls, value: str) -> str:
        return check_url(value, allow_empty=False)

    @field_validator("plex_token", "stash_api_key")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else SecretStr(check_secret(value.get_secret_value()))

    @field_validator("plex_ca_bundle", "stash_ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: str) -> str:
        return check_ca_bundle(value)

    @field_validator("plex_libraries")
    @classmethod
    def _libraries(cls, value: list[str]) -> list[str]:
        return [title.strip() for title in value if title.strip()]

    @field_validator("tag_exclude", "tag_collections")
    @classmethod
    def _tag_names(cls, value: list[str]) -> list[str]:
        names: list[str] = []
        for name in (raw.strip() for raw in value):
            if any(ord(ch) < 32 for ch in name):
                raise ValueError("a tag name cannot hold control characters")
            if name and name.casefold() not in {n.casefold() for n in names}:
                names.append(name)
        return names

    @field_validator("group_collection_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        # kept as typed: "Group: " ends in the space that separates it from the name
        if any(ord(ch) < 32 for ch in value):
            raise ValueError("a prefix cannot hold control characters")
        return value

    @field_validator("content_rating")
    @classmethod
    def _content_rating(cls, value: str) -> str:
        if any(ord(ch) < 32 for ch in value):
            raise ValueError("a content rating cannot hold control characters")
        return value.strip()

    @field_validator("schema_version")
    @classmethod
    def _schema(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"this version of PlexSync Tray reads schema {SCHEMA_VERSION} only")
        return value

    @field_serializer("plex_token", "stash_api_key", when_used="json")
    def _serialize_secret(self, value: SecretStr | None, info: SerializationInfo) -> str | None:
        # Only save_config (writing the 0600 file) asks for the real value; any other dump masks.
        if value is None:
            return None
        if isinstance(info.context, dict) and info.context.get(REVEAL_SECRETS):
            return value.get_secret_value()
        return mask_secret(value.get_secret_value())

    def with_changes(self, **changes: Any) -> PlexSyncConfig:
        """A validated copy with some fields changed (model_copy would skip validation)."""
        return PlexSyncConfig.model_validate({**self.model_dump(), **changes})

    @property
    def is_configured(self) -> bool:
        """Plex URL and token are set: the engine has somewhere to write."""
        return bool(self.plex_url and self.plex_token.get_secret_value())

    @property
    def has_secrets(self) -> bool:
        """A token or API key is set (the file must then be private)."""
        key = self.stash_api_key
        return bool(self.plex_token.get_secret_value() or (key and key.get_secret_value()))

    def secrets(self) -> list[str]:
        """The secret values, for a log masker (never for display)."""
        key = self.stash_api_key
        return [self.plex_token.get_secret_value(), "" if key is None else key.get_secret_value()]

    def masked(self) -> dict[str, Any]:
        """A plain dict for display: secrets and URL credentials replaced by a mask."""
        data = self.model_dump(mode="python")
        for key in ("plex_token", "stash_api_key"):
            secret = getattr(self, key)
            data[key] = mask_secret(None if secret is None else secret.get_secret_value())
        for key in ("plex_url", "stash_url"):
            data[key] = mask_url(data[key])
        data["path_mappings"] = [m.model_dump() for m in self.path_mappings]
        return data


def mask_secret(value: str | None) -> str | None:
    """`None` stays None, empty stays empty, anything else shows as asterisks only."""
    if value is None:
        return None
    return "********" if value else ""
