"""The engine's memory beside the queue: key/value state, breaker, outages and statistics.

`SqliteStore` owns the connections (one per thread, WAL, short explicit transactions);
`HistoryStore` adds everything the status window and `plexsync status` read over time.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.clock import SYSTEM_CLOCK, Clock

logger = logging.getLogger(__name__)

HISTORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    ended_at REAL
);
CREATE TABLE IF NOT EXISTS stash_outages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    ended_at REAL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    last_seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_minutes (
    minute INTEGER PRIMARY KEY,
    synced INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
"""

STATS_RETENTION_DAYS = 31
BUSY_TIMEOUT = 30.0  # seconds a write waits for another connection's lock
DAY = 86400.0
# Outage tables by service; table names never come from outside this mapping.
OUTAGE_TABLES = {"plex": "outages", "stash": "stash_outages"}


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


@dataclass(frozen=True)
class Outage:
    id: int
    started_at: float
    ended_at: float | None

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass(frozen=True)
class RunInterval:
    """A span of time the engine was running (heartbeats extend `last_seen_at`)."""

    started_at: float
    last_seen_at: float


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


class HistoryStore(SqliteStore):
    SCHEMAS: tuple[str, ...] = (HISTORY_SCHEMA,)

    def get_value(self, key: str) -> Any:
        row = self._db().execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row["value"])
        except ValueError:
            logger.warning("Stored value %r is damaged; ignoring it", key)
            return None

    def set_value(self, key: str, value: Any) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, json.dumps(value)),
            )

    def load_breaker(self) -> dict[str, Any] | None:
        value = self.get_value("breaker")
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError("stored breaker state is not an object")
        return value

    def save_breaker(self, data: dict[str, Any]) -> None:
        self.set_value("breaker", data)

    # --- outages and statistics ----------------------------------------------------------------

    def outage_started(self, at: float, service: str = "plex") -> None:
        """Open an outage record unless one is open already (a restart continues the outage)."""
        table = OUTAGE_TABLES[service]
        with self._tx() as db:
            open_row = db.execute(f"SELECT id FROM {table} WHERE ended_at IS NULL").fetchone()
            if open_row is None:
                db.execute(f"INSERT INTO {table} (started_at) VALUES (?)", (at,))

    def outage_ended(self, at: float, service: str = "plex") -> None:
        table = OUTAGE_TABLES[service]
        with self._tx() as db:
            db.execute(f"UPDATE {table} SET ended_at=? WHERE ended_at IS NULL", (at,))

    def outages(self, since: float, service: str = "plex") -> list[Outage]:
        rows = self._db().execute(
            f"SELECT * FROM {OUTAGE_TABLES[service]}"
            " WHERE ended_at IS NULL OR ended_at>=? ORDER BY started_at",
            (since,),
        )
        return [Outage(row["id"], row["started_at"], row["ended_at"]) for row in rows]

    # --- run intervals: which time the history can speak for -----------------------------------

    def run_started(self, at: float) -> int:
        """Record that the engine runs from `at`; returns the run's id for heartbeats."""
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO runs (started_at, last_seen_at) VALUES (?, ?)", (at, at)
            )
            return int(cursor.lastrowid or 0)

    def run_heartbeat(self, run_id: int, at: float) -> None:
        """The engine still ran at `at` (also called once at a clean stop)."""
        with self._tx() as db:
            db.execute("UPDATE runs SET last_seen_at=? WHERE id=?", (at, run_id))

    def runs(self, since: float) -> list[RunInterval]:
        rows = self._db().execute(
            "SELECT started_at, last_seen_at FROM runs WHERE last_seen_at>=? ORDER BY started_at",
            (since,),
        )
        return [RunInterval(row["started_at"], row["last_seen_at"]) for row in rows]

    def record_outcome(self, *, synced: int = 0, failed: int = 0) -> None:
        """Count synced/failed scenes per minute (for throughput and "synced today")."""
        with self._tx() as db:
            self._count(db, self._clock.now(), synced=synced, failed=failed)

    @staticmethod
    def _count(db: sqlite3.Connection, now: float, *, synced: int = 0, failed: int = 0) -> None:
        db.execute(
            "INSERT INTO sync_minutes (minute, synced, failed) VALUES (?, ?, ?)"
            " ON CONFLICT(minute) DO UPDATE SET synced=synced+excluded.synced,"
            " failed=failed+excluded.failed",
            (int(now // 60), synced, failed),
        )
        if synced:
            db.execute(
                "INSERT INTO kv (key, value) VALUES ('last_sync_at', ?)"
                " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (json.dumps(now),),
            )

    def synced_per_minute(self, since: float) -> list[tuple[float, int]]:
        rows = self._db().execute(
            "SELECT minute, synced FROM sync_minutes WHERE minute>=? ORDER BY minute",
            (int(since // 60),),
        )
        return [(row["minute"] * 60.0, int(row["synced"])) for row in rows]

    def synced_since(self, since: float) -> int:
        row = (
            self._db()
            .execute(
                "SELECT COALESCE(SUM(synced), 0) FROM sync_minutes WHERE minute>=?",
                (int(since // 60),),
            )
            .fetchone()
        )
        return int(row[0])

    def prune_history(self) -> None:
        """Keep statistics and closed outages for a month; the store never grows unbounded."""
        cutoff = self._clock.now() - STATS_RETENTION_DAYS * DAY
        with self._tx() as db:
            db.execute("DELETE FROM sync_minutes WHERE minute<?", (int(cutoff // 60),))
            for table in OUTAGE_TABLES.values():
                db.execute(
                    f"DELETE FROM {table} WHERE ended_at IS NOT NULL AND ended_at<?", (cutoff,)
                )
            db.execute("DELETE FROM runs WHERE last_seen_at<?", (cutoff,))
