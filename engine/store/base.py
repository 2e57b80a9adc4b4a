"""SqliteStore: one SQLite file, a connection per thread, short explicit transactions.

Every store in this package is a `SqliteStore` with its own `SCHEMAS`; WAL mode, the busy
time-out and the rule that a thread's connection closes when the thread ends live here once.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.clock import SYSTEM_CLOCK, Clock

logger = logging.getLogger(__name__)

BUSY_TIMEOUT = 30.0  # seconds a write waits for another connection's lock


def describe_storage_error(exc: sqlite3.Error) -> str:
    """What a person can do something about, from SQLite's error text."""
    text = str(exc).lower()
    if "full" in text:
        return "The disk holding the database is full"
    if "locked" in text or "busy" in text:
        return "Another program holds a lock on the database"
    if "readonly" in text or "read-only" in text:
        return "The data folder is read-only"
    return f"The database cannot be used ({exc})"


class _ThreadConnection:
    """One thread's connection, held only by that thread's local storage.

    When the thread ends (or its Python thread state is discarded) the holder is freed and the
    connection closed, so short-lived threads never leave open files behind.
    """

    __slots__ = ("__weakref__", "db")

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __del__(self) -> None:
        self.db.close()


class SqliteStore:
    """One SQLite file; each thread gets its own connection, closed when the thread ends."""

    SCHEMAS: tuple[str, ...] = ()

    def __init__(
        self, path: Path, *, clock: Clock = SYSTEM_CLOCK, busy_timeout: float = BUSY_TIMEOUT
    ) -> None:
        self.path = path
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        # Weak: a strong list would keep every ended thread's connection (and its files) open.
        self._connections: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._connections_lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        for schema in self.SCHEMAS:
            self._db().executescript(schema)  # executescript manages its own transaction

    # --- connections ---------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        holder: _ThreadConnection | None = getattr(self._local, "holder", None)
        if holder is None:
            # check_same_thread=False only so that close() may run on the thread that shuts
            # down; each connection is still used by the one thread that opened it.
            db = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=self._busy_timeout,
                check_same_thread=False,
            )
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            holder = _ThreadConnection(db)
            self._local.holder = holder
            with self._connections_lock:
                self._connections.add(holder)
        return holder.db

    @property
    def open_connections(self) -> int:
        """How many threads hold a connection now (one per live thread that used the store)."""
        with self._connections_lock:
            return len(self._connections)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Several writes in one transaction, one commit (each write's `_tx` joins it).

        An error that is not the database's ends the block with what was written committed
        (it describes what happened, e.g. in Plex, before the error); a storage error rolls
        everything back.
        """
        if getattr(self._local, "batch", False):
            yield
            return
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        self._local.batch = True
        try:
            yield
        except Exception as exc:
            self._local.batch = False
            self._end(db, commit=not isinstance(exc, sqlite3.Error))
            raise
        except BaseException:
            self._local.batch = False
            self._end(db, commit=False)
            raise
        self._local.batch = False
        self._end(db, commit=True)

    def _end(self, db: sqlite3.Connection, *, commit: bool) -> None:
        if commit:
            try:
                db.execute("COMMIT")
                return
            except sqlite3.Error:
                self._end(db, commit=False)
                raise
        if db.in_transaction:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                logger.warning("Rolling back a failed transaction failed too", exc_info=True)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        if getattr(self._local, "batch", False):
            yield db  # inside `batch()`: its transaction, its commit
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself failed (disk full): a transaction left open would make
            # every later BEGIN fail, so the store could never recover on its own.
            if db.in_transaction:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    logger.warning("Rolling back a failed transaction failed too", exc_info=True)
            raise

    def close(self) -> None:
        """Close every thread's connection (call once, at shutdown, after the threads stopped)."""
        with self._connections_lock:
            holders = list(self._connections)
            self._connections = weakref.WeakSet()
        for holder in holders:
            holder.db.close()
        self._local = threading.local()
