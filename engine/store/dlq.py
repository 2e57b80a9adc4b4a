"""The dead-letter queue: jobs that failed for good, one row per scene, kept for
`dlq_retention_days` and sent back to the queue on request."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from engine.clock import DAY
from engine.store.base import SqliteStore
from engine.store.job import Job, payload_hash

DLQ_SCHEMA = """
CREATE TABLE IF NOT EXISTS dlq (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scene_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    error_class TEXT NOT NULL,
    message TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_failure_at REAL NOT NULL,
    last_failure_at REAL NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dlq_last_failure ON dlq (last_failure_at);
"""


@dataclass(frozen=True)
class DeadLetter:
    id: int
    scene_id: str
    title: str
    error_class: str
    message: str
    attempts: int
    first_failure_at: float
    last_failure_at: float
    payload: dict[str, Any]


class DeadLetterStore(SqliteStore):
    """The `dlq` table; `dead_letter` and `dlq_retry` move rows between it and `jobs`."""

    def dead_letter(self, job: Job, *, error_class: str, message: str, attempts: int) -> int:
        """Move a claimed job to the DLQ (one row per scene: a newer failure replaces it)."""
        now = self._clock.now()
        first = job.first_failure_at or now
        with self._tx() as db:
            db.execute(
                "DELETE FROM jobs WHERE scene_id=? AND payload_hash=?",
                (job.scene_id, job.payload_hash),
            )
            db.execute(
                "UPDATE jobs SET status='pending' WHERE scene_id=? AND status='in_progress'",
                (job.scene_id,),
            )
            db.execute(
                "INSERT INTO dlq (scene_id, title, error_class, message, attempts,"
                " first_failure_at, last_failure_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(scene_id) DO UPDATE SET title=excluded.title,"
                " error_class=excluded.error_class, message=excluded.message,"
                " attempts=excluded.attempts, last_failure_at=excluded.last_failure_at,"
                " payload=excluded.payload",
                (
                    job.scene_id,
                    job.title,
                    error_class,
                    message,
                    attempts,
                    first,
                    now,
                    json.dumps(job.payload, ensure_ascii=False),
                ),
            )
            row = db.execute("SELECT id FROM dlq WHERE scene_id=?", (job.scene_id,)).fetchone()
        return int(row["id"])

    def dlq_list(self, limit: int = 100, offset: int = 0) -> list[DeadLetter]:
        rows = self._db().execute(
            "SELECT * FROM dlq ORDER BY last_failure_at DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_dead_letter(row) for row in rows]

    def dlq_get(self, entry_id: int) -> DeadLetter | None:
        row = self._db().execute("SELECT * FROM dlq WHERE id=?", (entry_id,)).fetchone()
        return None if row is None else _dead_letter(row)

    def dlq_count(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM dlq").fetchone()[0])

    def dlq_retry(self, entry_ids: list[int] | None = None) -> int:
        """Send entries back to the queue with a fresh budget; None means all. Returns how many."""
        now = self._clock.now()
        with self._tx() as db:
            if entry_ids is None:
                rows = db.execute("SELECT * FROM dlq").fetchall()
            else:
                marks = ",".join("?" * len(entry_ids))
                rows = db.execute(f"SELECT * FROM dlq WHERE id IN ({marks})", entry_ids).fetchall()
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM jobs").fetchone()[0]
            for row in rows:
                seq += 1
                payload = json.loads(row["payload"])
                # A queued newer change for the same scene wins over the dead-lettered payload.
                db.execute(
                    "INSERT INTO jobs (scene_id, seq, title, payload, payload_hash, enqueued_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(scene_id) DO NOTHING",
                    (
                        row["scene_id"],
                        seq,
                        row["title"],
                        row["payload"],
                        payload_hash(payload),
                        now,
                    ),
                )
                db.execute("DELETE FROM dlq WHERE id=?", (row["id"],))
        return len(rows)

    def dlq_delete(self, entry_ids: list[int] | None = None) -> int:
        with self._tx() as db:
            if entry_ids is None:
                return db.execute("DELETE FROM dlq").rowcount
            marks = ",".join("?" * len(entry_ids))
            return db.execute(f"DELETE FROM dlq WHERE id IN ({marks})", entry_ids).rowcount

    def dlq_purge(self, older_than_days: float) -> int:
        """Delete entries whose last failure is older than the retention period."""
        cutoff = self._clock.now() - older_than_days * DAY
        with self._tx() as db:
            return db.execute("DELETE FROM dlq WHERE last_failure_at<?", (cutoff,)).rowcount


def _dead_letter(row: sqlite3.Row) -> DeadLetter:
    return DeadLetter(
        id=row["id"],
        scene_id=row["scene_id"],
        title=row["title"],
        error_class=row["error_class"],
        message=row["message"],
        attempts=row["attempts"],
        first_failure_at=row["first_failure_at"],
        last_failure_at=row["last_failure_at"],
        payload=json.loads(row["payload"]),
    )
