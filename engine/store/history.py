"""The engine's memory beside the queue: key/value state, breaker, outages and statistics.

`HistoryStore` (a `SqliteStore`, `engine/store/base.py`) holds everything the status window and
`plexsync status` read over time.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from engine.clock import DAY
from engine.store.base import SqliteStore

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
# Outage tables by service; table names never come from outside this mapping.
OUTAGE_TABLES = {"plex": "outages", "stash": "stash_outages"}


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
