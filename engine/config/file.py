"""The config file: read with every valid value kept, saved atomically as owner-only JSON.

A bad value never costs the good ones: the field falls back to its default and the problem names
it. The file itself is never moved or changed by reading it; a broken file is copied to a
timestamped .bak only when new settings are about to replace it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.clock import SYSTEM_CLOCK, Clock
from engine.config.migrate import migrate
from engine.config.model import (
    REVEAL_SECRETS,
    SCHEMA_VERSION,
    PathMapping,
    PlexSyncConfig,
    mask_secret,
)
from engine.config.peek import EXPOSED_WARNING, readable_by_others
from engine.config.secret_store import SecretStore
from engine.config.secrets import (
    Unread,
    plain_secret_in,
    references_in,
    resolve_secrets,
    store_secrets,
)
from engine.paths import APP_NAME, CONFIG_FILE, config_dir

__all__ = [
    "APP_NAME",
    "CONFIG_FILE",
    "SCHEMA_VERSION",
    "ConfigLoad",
    "ConfigProblem",
    "FieldProblem",
    "PathMapping",
    "PlexSyncConfig",
    "Unread",
    "config_dir",
    "config_path",
    "fix_permissions",
    "load_config",
    "load_config_report",
    "mask_secret",
    "save_config",
]

logger = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 1_000_000  # a real config is a few KB
SALVAGE_PASSES = 4


@dataclass(frozen=True)
class FieldProblem:
    """One invalid value: where (dotted), what was wrong, and what is used instead."""

    field: str
    message: str
    instead: str = ""

    @property
    def name(self) -> str:
        """The top-level setting, as the settings dialog names its editors."""
        return self.field.split(".", 1)[0]

    def describe(self) -> str:
        return f"{self.field}: {self.message}" + (f" ({self.instead})" if self.instead else "")


@dataclass(frozen=True)
class ConfigProblem:
    """Why (part of) a config file could not be used; the file itself is left as it is."""

    path: Path
    summary: str
    fields: tuple[FieldProblem, ...] = ()

    def describe(self) -> str:
        lines = [self.summary]
        lines += [f"  {p.describe()}" for p in self.fields]
        lines.append(
            f"The file {self.path} was not changed; saving new settings keeps a copy of it "
            "as a .bak file."
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class ConfigLoad:
    """What reading the config found: the usable config, problems and warnings."""

    config: PlexSyncConfig
    problem: ConfigProblem | None = None
    existed: bool = field(default=False)
    ignored_keys: tuple[str, ...] = ()
    exposed: bool = False  # holds a secret and other users can read it
    in_store: tuple[str, ...] = ()  # secrets read from the secret store, not the file
    unread: tuple[tuple[str, Unread], ...] = ()  # secrets the file points to, left empty, why

    @property
    def unread_secrets(self) -> frozenset[str]:
        """The secret fields that are empty because they could not be read (not "cleared")."""
        return frozenset(name for name, _why in self.unread)

    @property
    def keyring_problem(self) -> Unread | None:
        """The most urgent reason a secret could not be read, or None when all were."""
        kinds = {why for _name, why in self.unread}
        return next((kind for kind in Unread if kind in kinds), None)

    def warnings(self) -> list[str]:
        """Things the user should hear about that do not make the config unusable."""
        notes = []
        if self.ignored_keys:
            keys = ", ".join(self.ignored_keys)
            notes.append(f"Unknown setting(s) ignored: {keys} (a typo, or from another version?).")
        if self.exposed:
            notes.append(EXPOSED_WARNING)
        return notes


def field_problems(error: ValidationError) -> tuple[FieldProblem, ...]:
    """pydantic errors as (dotted field, message) pairs, never echoing the rejected value."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "(file)"
        problems.append(FieldProblem(where, _plain(str(item["msg"]))))
    return tuple(problems)


def _plain(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def config_path() -> Path:
    """The per-user config file; `XDG_CONFIG_HOME` relocates it on Linux."""
    return config_dir() / CONFIG_FILE


def load_config_report(
    path: Path | None = None, *, secrets: SecretStore | None = None, read_secrets: bool = True
) -> ConfigLoad:
    """Read the config, keeping every valid value; the file is never changed by reading it.

    Keyring references are resolved through `secrets`; `read_secrets=False` only checks them.
    """
    path = path or config_path()
    try:
        raw = _read_limited(path)
    except FileNotFoundError:
        return ConfigLoad(PlexSyncConfig())
    except OSError as exc:
        problem = ConfigProblem(path, f"The config file could not be read: {_os_reason(exc)}.")
        return ConfigLoad(PlexSyncConfig(), problem, existed=True)
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the file does not hold a JSON object")
    except RecursionError:
        summary = "The config file is not usable JSON (it is nested too deeply)."
        return ConfigLoad(PlexSyncConfig(), ConfigProblem(path, summary), existed=True)
    except (ValueError, UnicodeDecodeError) as exc:
        summary = f"The config file is not valid JSON ({_first_line(exc)})."
        return ConfigLoad(PlexSyncConfig(), ConfigProblem(path, summary), existed=True)
    data = migrate(data)
    resolved = resolve_secrets(data, secrets, check=read_secrets)
    config, problems, ignored = salvage(resolved.data)
    unread = tuple(FieldProblem(f, why, "left empty") for f, why in resolved.problems)
    problems = unread + problems
    invalid = None
    if problems:
        invalid = ConfigProblem(path, "The config file has invalid settings.", problems)
    exposed = plain_secret_in(data) and readable_by_others(path)
    return ConfigLoad(
        config,
        invalid,
        existed=True,
        ignored_keys=ignored,
        exposed=exposed,
        in_store=resolved.in_store,
        unread=resolved.unread,
    )


def salvage(
    data: dict[str, Any],
) -> tuple[PlexSyncConfig, tuple[FieldProblem, ...], tuple[str, ...]]:
    """The config with each invalid value replaced by its default, what was wrong, and the
    unknown keys that were ignored."""
    data = dict(data)
    problems: list[FieldProblem] = []
    ignored: list[str] = []
    for _ in range(SALVAGE_PASSES):
        try:
            return PlexSyncConfig.model_validate(data), tuple(problems), tuple(ignored)
        except ValidationError as exc:
            _drop_invalid(data, exc, problems, ignored)
    problems.append(FieldProblem("(file)", "could not be repaired", "defaults used"))
    return PlexSyncConfig(), tuple(problems), tuple(ignored)


def _drop_invalid(
    data: dict[str, Any],
    exc: ValidationError,
    problems: list[FieldProblem],
    ignored: list[str],
) -> None:
    """Remove what failed: an unknown key, a bad list entry, or a whole bad field."""
    bad_rows: dict[str, set[int]] = {}
    for item, problem in zip(exc.errors(include_input=False), field_problems(exc), strict=True):
        loc = item["loc"]
        name = str(loc[0]) if loc else ""
        if item["type"] == "extra_forbidden":
            ignored.append(name)
            data.pop(name, None)
        elif len(loc) >= 2 and isinstance(loc[1], int) and isinstance(data.get(name), list):
            bad_rows.setdefault(name, set()).add(loc[1])
            problems.append(FieldProblem(problem.field, problem.message, "this entry is ignored"))
        else:
            data.pop(name, None)
            problems.append(FieldProblem(problem.field, problem.message, _default_text(name)))
    for name, rows in bad_rows.items():
        data[name] = [row for index, row in enumerate(data[name]) if index not in rows]


def _default_text(name: str) -> str:
    info = PlexSyncConfig.model_fields.get(name)
    if info is None:
        return "ignored"
    default = info.get_default(call_default_factory=True)
    if name in ("plex_token", "stash_api_key"):
        return "left empty"
    if isinstance(default, bool):
        default = "on" if default else "off"
    elif isinstance(default, float) and default.is_integer():
        default = int(default)
    return f"the default {default!r} is used" if default not in ("", []) else "left empty"


def load_config(path: Path | None = None) -> PlexSyncConfig:
    """The config (invalid values at their defaults, with a warning logged)."""
    result = load_config_report(path)
    if result.problem is not None:
        logger.warning("%s", result.problem.describe())
    return result.config


def save_config(
    config: PlexSyncConfig,
    path: Path | None = None,
    *,
    secrets: SecretStore | None = None,
    cleared_secrets: frozenset[str] = frozenset(),
    clock: Clock = SYSTEM_CLOCK,
) -> Path:
    """Write atomically (temp file, fsync, rename) with mode 0600: the file may hold the token.

    With a usable `secrets` store the token and API key are written there first, read back, and
    only then replaced in the file by references. An empty secret is deleted from the store only
    when it is in `cleared_secrets` (the caller's user emptied it); any other empty secret keeps
    its reference, because it may simply not have been readable. A file that is not a valid
    config is first copied to a .bak: the user's text is never lost. A symlink is replaced by the
    new file; its target is never touched.
    """
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    _keep_copy_if_broken(path, clock)
    data = config.model_dump(mode="json", context={REVEAL_SECRETS: True})
    data = store_secrets(
        data,
        config_dir=path.parent,
        store=secrets,
        old_refs=references_in(read_config_data(path)),
        cleared=cleared_secrets,
    )
    write_config_data(path, data)
    return path


def write_config_data(path: Path, data: dict[str, Any]) -> None:
    """The atomic, owner-only write of already prepared config data."""
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


def read_config_data(path: Path) -> dict[str, Any]:
    """The file's JSON object as it is, or {} when there is none to read."""
    try:
        data = json.loads(_read_limited(path))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def fix_permissions(path: Path | None = None) -> str:
    """Make the config file owner-only (0600) without following a symlink; says what it did."""
    path = path or config_path()
    if path.is_symlink():
        return (
            f"{path} is a symbolic link; its target was not changed. "
            f"Run `chmod 600` on {path.resolve()} yourself if it is yours."
        )
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return f"{path} is now readable by you only (mode 0600)."


def _read_limited(path: Path) -> bytes:
    with path.open("rb") as handle:
        raw = handle.read(MAX_CONFIG_BYTES + 1)
    if len(raw) > MAX_CONFIG_BYTES:
        raise OSError(0, f"it is larger than {MAX_CONFIG_BYTES // 1000} KB")
    return raw


def _keep_copy_if_broken(path: Path, clock: Clock) -> Path | None:
    """Copy a file that is not a fully valid config to a new 0600 .bak (never follows links)."""
    if not path.exists():
        return None
    loaded = load_config_report(path, read_secrets=False)
    if loaded.problem is None and not loaded.ignored_keys:
        return None
    try:
        raw = _read_limited(path)
    except OSError:
        raw = b""
    stamp = _stamp(clock.now())
    for counter in range(1000):
        suffix = stamp if counter == 0 else f"{stamp}-{counter}"
        backup = path.with_name(f"{path.name}.{suffix}.bak")
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        logger.warning("The previous config file was kept as %s", backup)
        return backup
    return None


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


def _stamp(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y%m%d-%H%M%S")


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, IsADirectoryError):
        return "it is a directory"
    if isinstance(exc, NotADirectoryError):
        return "a part of its path is a file, not a directory"
    return exc.strerror or str(exc)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
