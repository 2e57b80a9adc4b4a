"""The keyring probe's "none usable" answer, remembered for an hour by `plexsync run`.

Finding out that no keyring is usable means importing `keyring` and letting it try each of its
backends: ~0.1 s of CPU on every start of a machine without one (a headless box, a timer that
runs `plexsync run --once` every few minutes). That answer rarely changes, so `plexsync run`
keeps it for an hour: a keyring that starts running is used within the hour. The tray and the
`config` commands always ask afresh, and a positive answer is never remembered.

The memo is input like any file (issue 22): it is trusted only when it is our own private file
and passes `ProbeMemo` (a short printable reason, a real timestamp not in the future); anything
else means asking the keyring. Its text is escaped before it is logged or shown.
"""

from __future__ import annotations

import logging
import math
import os
import stat
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.clock import Clock, SystemClock
from engine.config.secret_store import SecretStore, printable

logger = logging.getLogger(__name__)

REMEMBER_FOR = 3600.0  # seconds
KEYRING_MEMO = "keyring-probe.json"  # in the data dir
MAX_MEMO_BYTES = 4096  # what we write is under 200 bytes
MAX_REASON = 200  # the longest reason `KeyringStore.unavailable()` gives is far shorter


class ProbeMemo(BaseModel):
    """What `keyring-probe.json` holds."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    reason: str = Field(min_length=1, max_length=MAX_REASON)
    checked_at: float = Field(ge=0)  # seconds since the epoch, UTC

    @field_validator("reason")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("must not contain control characters")
        return value

    @field_validator("checked_at")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class RememberedProbe:
    """A SecretStore whose `unavailable()` reason is kept in `memo` for an hour."""

    def __init__(self, store: SecretStore, memo: Path, *, clock: Clock | None = None) -> None:
        self._store, self._memo = store, memo
        self._clock = clock or SystemClock()

    @property
    def name(self) -> str:
        return self._store.name

    def unavailable(self) -> str | None:
        remembered = self._remembered()
        if remembered is not None:
            return remembered
        reason = self._store.unavailable()
        if reason is None:
            self._memo.unlink(missing_ok=True)
        else:
            self._remember(printable(reason, MAX_REASON))
        return reason

    def get(self, ref: str) -> str | None:
        return self._store.get(ref)

    def set(self, ref: str, value: str) -> None:
        self._store.set(ref, value)

    def delete(self, ref: str) -> None:
        self._store.delete(ref)

    def _remembered(self) -> str | None:
        try:
            memo = self._read()
        except (OSError, ValueError) as exc:
            if not isinstance(exc, FileNotFoundError):
                logger.info("Ignoring %s: %s", self._memo, printable(_first_line(exc)))
            return None  # none yet, foreign or damaged: ask the keyring
        age = self._clock.now() - memo.checked_at
        if not 0 <= age < REMEMBER_FOR:
            return None  # stale, or from the future (the clock was set back, or forged)
        return memo.reason

    def _read(self) -> ProbeMemo:
        """The memo, if it is ours: a regular file of this user that no one else can write."""
        fd = os.open(self._memo, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ValueError("it is not a regular file")
            if os.name == "posix" and (
                info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            ):
                raise ValueError("it is not private to this user")
            raw = handle.read(MAX_MEMO_BYTES + 1)
        if len(raw) > MAX_MEMO_BYTES:
            raise ValueError("it is too large")
        try:
            return ProbeMemo.model_validate_json(raw)
        except ValidationError as exc:
            raise ValueError(f"it is not a valid probe memo ({exc.error_count()} errors)") from exc

    def _remember(self, reason: str) -> None:
        text = ProbeMemo(reason=reason, checked_at=self._clock.now()).model_dump_json()
        partial = self._memo.with_name(f"{self._memo.name}.partial")
        try:
            self._memo.parent.mkdir(parents=True, exist_ok=True)
            partial.unlink(missing_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            partial.replace(self._memo)
        except OSError as exc:  # a read-only data dir: just ask again next time
            logger.debug("Could not remember the keyring probe's answer: %s", exc)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
