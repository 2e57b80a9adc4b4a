"""The validated configuration: a pydantic model saved atomically as owner-only JSON."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializationInfo,
    ValidationError,
    field_serializer,
    field_validator,
)

from engine.clock import SYSTEM_CLOCK, Clock

logger = logging.getLogger(__name__)

APP_NAME = "plexsync-tray"
SCHEMA_VERSION = 1
CONFIG_FILE = "config.json"
REVEAL_SECRETS = "reveal_secrets"


def _check_url(value: str, *, allow_empty: bool) -> str:
    value = value.strip()
    if not value:
        if allow_empty:
            return ""
        raise ValueError("a URL is required, for example http://localhost:9999")
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    if len(value.split("://", 1)[1].strip("/")) == 0:
        raise ValueError("must name a host after the scheme")
    return value.rstrip("/")


class PathMapping(BaseModel):
    """Stash sees a file under `stash_prefix`; Plex sees the same file under `plex_prefix`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stash_prefix: Annotated[str, Field(min_length=1)]
    plex_prefix: Annotated[str, Field(min_length=1)]


class PlexSyncConfig(BaseModel):
    """Everything the user can set. Ranges are enforced here and shown by the settings dialog."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    schema_version: int = SCHEMA_VERSION

    plex_url: str = ""
    plex_token: SecretStr = SecretStr("")
    plex_libraries: list[str] = Field(default_factory=list)

    stash_url: str = "http://localhost:9999"
    stash_api_key: SecretStr | None = None

    poll_interval: Annotated[float, Field(ge=1, le=3600)] = 30.0
    plex_connect_timeout: Annotated[float, Field(ge=1, le=30)] = 5.0
    plex_read_timeout: Annotated[float, Field(ge=1, le=120)] = 30.0

    failure_threshold: Annotated[int, Field(ge=1, le=100)] = 5
    recovery_timeout: Annotated[float, Field(ge=1, le=3600)] = 60.0
    success_threshold: Annotated[int, Field(ge=1, le=10)] = 1

    max_retries: Annotated[int, Field(ge=0, le=20)] = 5
    dlq_retention_days: Annotated[int, Field(ge=1, le=365)] = 30

    strict_matching: bool = True
    preserve_plex_edits: bool = False
    skip_not_found: bool = False
    lock_synced_fields: bool = True

    path_mappings: list[PathMapping] = Field(default_factory=list)

    sync_title: bool = True
    sync_studio: bool = True
    sync_summary: bool = True
    sync_date: bool = True
    sync_performers: bool = True
    sync_tags: bool = True
    sync_collection: bool = True
    sync_poster: bool = True

    notifications: bool = True
    start_at_login: bool = False

    @field_validator("plex_url")
    @classmethod
    def _plex_url(cls, value: str) -> str:
        return _check_url(value, allow_empty=True)

    @field_validator("stash_url")
    @classmethod
    def _stash_url(cls, value: str) -> str:
        return _check_url(value, allow_empty=False)

    @field_validator("plex_libraries")
    @classmethod
    def _libraries(cls, value: list[str]) -> list[str]:
        return [title.strip() for title in value if title.strip()]

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

    def masked(self) -> dict[str, Any]:
        """A plain dict for display: secrets replaced by a mask, never their value."""
        data = self.model_dump(mode="python")
        for key in ("plex_token", "stash_api_key"):
            secret = getattr(self, key)
            data[key] = mask_secret(None if secret is None else secret.get_secret_value())
        data["path_mappings"] = [m.model_dump() for m in self.path_mappings]
        return data


def mask_secret(value: str | None) -> str | None:
    """`None` stays None, empty stays empty, anything else shows as asterisks only."""
    if value is None:
        return None
    return "********" if value else ""


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field: where, what was wrong, and in words a user understands."""

    field: str
    message: str


@dataclass(frozen=True)
class ConfigProblem:
    """Why a config file could not be used, and where its contents were kept."""

    path: Path
    summary: str
    fields: tuple[FieldProblem, ...] = ()
    backup_path: Path | None = None

    def describe(self) -> str:
        lines = [self.summary]
        lines += [f"  {p.field}: {p.message}" for p in self.fields]
        if self.backup_path is not None:
            lines.append(f"The file was kept as {self.backup_path}; defaults are in use.")
        return "\n".join(lines)


@dataclass(frozen=True)
class ConfigLoad:
    config: PlexSyncConfig
    problem: ConfigProblem | None = None
    existed: bool = field(default=False)


def field_problems(error: ValidationError) -> tuple[FieldProblem, ...]:
    """pydantic errors as (dotted field, message) pairs, never echoing the rejected value."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "(file)"
        problems.append(FieldProblem(where, str(item["msg"])))
    return tuple(problems)


def config_dir() -> Path:
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def config_path() -> Path:
    """The per-user config file; `XDG_CONFIG_HOME` relocates it on Linux."""
    return config_dir() / CONFIG_FILE


def load_config_report(
    path: Path | None = None, *, clock: Clock = SYSTEM_CLOCK, keep_backup: bool = True
) -> ConfigLoad:
    """Read the config. A broken file is kept as a timestamped .bak and defaults are returned.

    `keep_backup=False` only reports (for `config check`): the file stays where it is.
    """
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ConfigLoad(PlexSyncConfig())
    except OSError as exc:
        problem = ConfigProblem(path, f"The config file could not be read: {exc.strerror}")
        return ConfigLoad(PlexSyncConfig(), problem, existed=True)
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the file does not hold a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        backup = _keep_backup(path, clock) if keep_backup else None
        summary = f"The config file is not valid JSON ({_first_line(exc)})."
        return ConfigLoad(PlexSyncConfig(), ConfigProblem(path, summary, (), backup), existed=True)
    try:
        return ConfigLoad(PlexSyncConfig.model_validate(data), existed=True)
    except ValidationError as exc:
        backup = _keep_backup(path, clock) if keep_backup else None
        problem = ConfigProblem(
            path, "The config file has invalid settings.", field_problems(exc), backup
        )
        return ConfigLoad(PlexSyncConfig(), problem, existed=True)


def load_config(path: Path | None = None) -> PlexSyncConfig:
    """The config, or defaults (with a warning logged) when the file is broken."""
    result = load_config_report(path)
    if result.problem is not None:
        logger.warning("%s", result.problem.describe())
    return result.config


def save_config(config: PlexSyncConfig, path: Path | None = None) -> Path:
    """Write atomically (temp file, fsync, rename) with mode 0600: the file holds the token."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = config.model_dump(mode="json", context={REVEAL_SECRETS: True})
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    fd, tmp_name = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not supported on every platform; the rename itself is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _keep_backup(path: Path, clock: Clock) -> Path | None:
    stamp = _stamp(clock.now())
    backup = path.with_name(f"{path.name}.{stamp}.bak")
    counter = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.{stamp}-{counter}.bak")
        counter += 1
    try:
        path.replace(backup)
        backup.chmod(0o600)
    except OSError as exc:
        logger.warning("Could not keep the broken config as a backup: %s", exc.strerror)
        return None
    return backup


def _stamp(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y%m%d-%H%M%S")


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
