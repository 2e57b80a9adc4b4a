"""One engine per data dir: an OS-level lock on a file there, held for the engine's whole life.

Whoever starts an engine (the tray, `plexsync run`, `run --once`, an offline CLI command that
recovers jobs) takes the lock first; a second one gets `EngineBusyError` and touches nothing.
The OS drops the lock when its process dies, so a kill -9 never leaves a stale lock behind.
Readers (`status`, `dlq list`) never take it.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import TracebackType

from engine.errors import SyncError

logger = logging.getLogger(__name__)

LOCK_FILE = "engine.lock"


class EngineBusyError(SyncError):
    """Another engine already works on this data dir."""


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on `fd` without waiting; False if another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


class EngineLock:
    """`acquire()` or get `EngineBusyError`; `release()` (or leave the `with` block) at the end."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> EngineLock:
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            raise EngineBusyError(
                "Another PlexSync engine is running",
                f"the tray or `plexsync run` already works on {self.path.parent}; "
                "stop it first (status and dlq list still work beside it)",
            )
        # The pid is for people reading the file; the lock itself is what counts.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        except OSError:
            logger.debug("Unlocking %s failed; closing it releases the lock", self.path)
        os.close(fd)

    def __enter__(self) -> EngineLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
