"""Opening the job store with clear errors: a damaged file or an unwritable data folder is
named as such (never a traceback), and a damaged file is only ever set aside, never deleted."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import SyncError
from engine.store.jobs import JobStore

# What SQLite says when the file is not (or no longer) a database it can read.
_CORRUPT_WORDS = ("file is not a database", "malformed", "corrupt")
_SIDE_FILES = ("-wal", "-shm")


class DatabaseCorruptError(SyncError):
    """The queue database is damaged; nothing was changed. `set_aside` moves it away."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            "The queue database is damaged",
            f"{path} cannot be read ({reason}). Nothing was changed. To keep it aside and start "
            "with an empty queue, run `plexsync run --reset-database` (the damaged file is kept "
            "next to it as a .corrupt file).",
        )
        self.path = path


class DataDirError(SyncError):
    """The data folder (or the database in it) cannot be written."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            "The data folder cannot be written",
            f"{path.parent} ({reason}). Check that it exists, is yours and is not read-only.",
        )
        self.path = path


def store_error(path: Path, exc: sqlite3.Error) -> SyncError | None:
    """SQLite's failure on `path` in words, or None when it is not about the file or folder."""
    text = str(exc)
    if any(word in text.lower() for word in _CORRUPT_WORDS):
        return DatabaseCorruptError(path, text)
    if isinstance(exc, sqlite3.OperationalError) and _is_write_failure(text):
        return DataDirError(path, text)
    return None


def open_job_store(path: Path, *, clock: Clock = SYSTEM_CLOCK, recover: bool = True) -> JobStore:
    """`JobStore(...)`, with SQLite's and the file system's failures in words."""
    try:
        return JobStore(path, clock=clock, recover=recover)
    except sqlite3.DatabaseError as exc:
        error = store_error(path, exc)
        if error is None:
            raise
        raise error from exc
    except OSError as exc:
        raise DataDirError(path, exc.strerror or type(exc).__name__) from exc


def _is_write_failure(text: str) -> bool:
    text = text.lower()
    return "readonly" in text or "unable to open" in text or "disk i/o" in text


def set_aside(path: Path, *, clock: Clock = SYSTEM_CLOCK) -> Path:
    """Rename a damaged database (and its WAL files) to `<name>.<time>.corrupt`; returns it."""
    stamp = dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{stamp}.corrupt")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.{stamp}-{counter}.corrupt")
        counter += 1
    path.replace(target)
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    return target
