"""The persistent job store: one SQLite file with the queue, the DLQ and the engine's memory.

One row per Stash scene in `jobs`; a newer change replaces the queued payload. Dequeue honours
`not_before`, so a job waiting for its retry never blocks others or spins. A job in progress when
the process died is pending again when the store is opened. Each thread gets its own connection.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.clock import DAY, SYSTEM_CLOCK, Clock
from engine.store.activity import ACTIVITY_SCHEMA, ActivityStore
from engine.store.base import BUSY_TIMEOUT
from engine.store.claims import CLAIMS_SCHEMA, ClaimStore
from engine.store.dlq import DLQ_SCHEMA, DeadLetter, DeadLetterStore
from engine.store.history import HISTORY_SCHEMA, HistoryStore, Outage
from engine.store.job import Job, job_from_row, payload_hash
from engine.store.matches import MATCH_SCHEMA, MatchStore
from engine.store.plex_index import INDEX_SCHEMA, IndexStore
from engine.store.polls import POLL_SCHEMA, PollStore

logger = logging.getLogger(__name__)

__all__ = [
    "DAY",
    "DeadLetter",
    "Job",
    "JobStore",
    "Outage",
    "Pushed",
    "QueueCounts",
    "payload_hash",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    scene_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    enqueued_at REAL NOT NULL,
    first_failure_at REAL,
    last_error TEXT,
    error_class TEXT
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (status, not_before, seq);
-- MAX(seq) on every enqueue: without it, a scan of the whole queue (0.2 ms at 2,000 jobs,
-- 1.2 ms at 20,000), which made a first sync's cost grow with the queue's square.
CREATE INDEX IF NOT EXISTS jobs_seq ON jobs (seq);
CREATE TABLE IF NOT EXISTS pushed (
    scene_id TEXT PRIMARY KEY,
    payload_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    poster_source TEXT,
    poster_hash TEXT,
    synced_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Pushed:
    """What we last wrote to Plex for a scene."""

    scene_id: str
    payload_hash: str
    state: dict[str, Any]
    poster_source: str | None
    poster_hash: str | None
    synced_at: float = 0.0


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    in_progress: int
    waiting: int  # pending but not before a future time (backoff)
    dlq: int


DROPPED_KEY = "stash_fanout_dropped"  # follow-ups given up, until a library check reports them
DROPPED_KEPT = 100


class JobStore(
    HistoryStore, DeadLetterStore, IndexStore, PollStore, ClaimStore, ActivityStore, MatchStore
):
    """The queue, the DLQ and what reached Plex, plus the history (see `HistoryStore`)."""

    SCHEMAS = (
        SCHEMA,
        DLQ_SCHEMA,
        HISTORY_SCHEMA,
        INDEX_SCHEMA,
        POLL_SCHEMA,
        CLAIMS_SCHEMA,
        ACTIVITY_SCHEMA,
        MATCH_SCHEMA,
    )

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock = SYSTEM_CLOCK,
        recover: bool = True,
        busy_timeout: float = BUSY_TIMEOUT,
    ) -> None:
        """Open (or create) the store. Only the engine's owner passes `recover=True`: it puts
        jobs left in progress by a dead process back to pending, which a reader beside a
        running engine must never do."""
        try:
            super().__init__(path, clock=clock, busy_timeout=busy_timeout)
            recovered = self._recover_in_progress() if recover else 0
        except BaseException:
            self.close()  # a damaged or unwritable file: leave no connection behind
            raise
        if recovered:
            logger.warning(
                "%d job(s) were in progress when the app stopped; queued again", recovered
            )

    def dlq_confirm(self, entry_id: int, rating_key: str | None = None) -> int:
        """Confirm a dead-lettered possible match (its candidate `rating_key`, or its only one):
        the folders are paired and the scene queued again, to be written, with the entries
        whose candidates are in the same pair of folders. Returns how many were queued, 0 when
        the entry has no such candidate."""
        entry = self.dlq_get(entry_id)
        if entry is None or self.confirm_match(entry.scene_id, rating_key) is None:
            return 0
        return self.dlq_retry([entry_id, *self.paired_in_dlq()])

    def requeue_in_progress(self) -> int:
        """Claimed jobs back to pending. Only the engine lock's holder may call this, between
        ticks (after a storage error the claims of the failed tick are otherwise stuck)."""
        return self._recover_in_progress()

    def _recover_in_progress(self) -> int:
        with self._tx() as db:
            return db.execute(
                "UPDATE jobs SET status='pending' WHERE status='in_progress'"
            ).rowcount

    # --- queue ---------------------------------------------------------------------------------

    def enqueue(
        self, scene_id: str, payload: dict[str, Any], *, title: str = "", digest: str = ""
    ) -> bool:
        """Queue a scene's desired state; a queued job for the scene gets the newer payload.

        Returns False when the same payload is already queued (nothing changed). `digest` is
        `payload_hash(payload)` when the caller has it already.
        """
        digest = digest or payload_hash(payload)
        now = self._clock.now()
        text = json.dumps(payload, ensure_ascii=False)
        with self._tx() as db:
            row = db.execute(
                "SELECT payload_hash FROM jobs WHERE scene_id=?", (scene_id,)
            ).fetchone()
            if row is not None and row["payload_hash"] == digest:
                return False
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
            if row is None:
                db.execute(
                    "INSERT INTO jobs (scene_id, seq, title, payload, payload_hash, enqueued_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (scene_id, seq, title, text, digest, now),
                )
            else:
                # A newer change supersedes the queued one; its retry budget starts afresh,
                # but a pending backoff (not_before) is kept so a failing Plex is not hammered.
                db.execute(
                    "UPDATE jobs SET title=?, payload=?, payload_hash=?, attempts=0,"
                    " enqueued_at=? WHERE scene_id=?",
                    (title, text, digest, now, scene_id),
                )
        return True

    def dequeue(self, limit: int = 1) -> list[Job]:
        """Claim up to `limit` ready jobs (not_before passed), oldest first."""
        now = self._clock.now()
        with self._tx() as db:
            rows = db.execute(
                "SELECT * FROM jobs WHERE status='pending' AND not_before<=?"
                " ORDER BY not_before, seq LIMIT ?",
                (now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE jobs SET status='in_progress' WHERE scene_id=?",
                [(row["scene_id"],) for row in rows],
            )
        return [job_from_row(row) for row in rows]

    def complete(self, job: Job) -> bool:
        """The job's payload reached Plex: remove it, unless a newer payload arrived meanwhile."""
        with self._tx() as db:
            removed = db.execute(
                "DELETE FROM jobs WHERE scene_id=? AND payload_hash=?",
                (job.scene_id, job.payload_hash),
            ).rowcount
            if not removed:
                db.execute("UPDATE jobs SET status='pending' WHERE scene_id=?", (job.scene_id,))
        return bool(removed)

    def release(
        self,
        job: Job,
        *,
        not_before: float,
        attempts: int,
        error: str | None = None,
        error_class: str | None = None,
    ) -> None:
        """Put a claimed job back to wait until `not_before`."""
        now = self._clock.now()
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status='pending', not_before=?, attempts=?, last_error=?,"
                " error_class=?, first_failure_at=COALESCE(first_failure_at, ?)"
                " WHERE scene_id=?",
                (not_before, attempts, error, error_class, now if error else None, job.scene_id),
            )

    def unclaim(self, job: Job) -> None:
        """Give back a claimed job that was not started; it keeps its place and budget."""
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status='pending' WHERE scene_id=? AND status='in_progress'",
                (job.scene_id,),
            )

    def hold(self, job: Job, *, not_before: float) -> None:
        """Give back a claimed job to wait until `not_before`; its budget and error stay."""
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status='pending', not_before=? WHERE scene_id=?",
                (not_before, job.scene_id),
            )

    def drop(self, job: Job) -> None:
        with self._tx() as db:
            db.execute(
                "DELETE FROM jobs WHERE scene_id=? AND payload_hash=?",
                (job.scene_id, job.payload_hash),
            )

    def release_all_waiting(self) -> int:
        """Make every pending job ready now ("Retry now")."""
        with self._tx() as db:
            return db.execute(
                "UPDATE jobs SET not_before=0 WHERE status='pending' AND not_before>0"
            ).rowcount

    def waiting_not_found(self, limit: int = 5000) -> list[Job]:
        """Jobs waiting because Plex had no item for their file (oldest first)."""
        rows = self._db().execute(
            "SELECT * FROM jobs WHERE status='pending' AND error_class='not_found'"
            " AND not_before>? ORDER BY seq LIMIT ?",
            (self._clock.now(), limit),
        )
        return [job_from_row(row) for row in rows]

    def make_ready(self, scene_ids: list[str]) -> int:
        """These waiting jobs may run now (their budget stays as it is)."""
        with self._tx() as db:
            return db.executemany(
                "UPDATE jobs SET not_before=0 WHERE scene_id=? AND status='pending'",
                [(scene_id,) for scene_id in scene_ids],
            ).rowcount

    def next_ready_at(self) -> float | None:
        row = (
            self._db().execute("SELECT MIN(not_before) FROM jobs WHERE status='pending'").fetchone()
        )
        return None if row[0] is None else float(row[0])

    def get_job(self, scene_id: str) -> Job | None:
        row = self._db().execute("SELECT * FROM jobs WHERE scene_id=?", (scene_id,)).fetchone()
        return None if row is None else job_from_row(row)

    def list_jobs(self, limit: int = 100, offset: int = 0) -> list[Job]:
        rows = self._db().execute(
            "SELECT * FROM jobs ORDER BY not_before, seq LIMIT ? OFFSET ?", (limit, offset)
        )
        return [job_from_row(row) for row in rows]

    def counts(self) -> QueueCounts:
        now = self._clock.now()
        db = self._db()
        row = db.execute(
            "SELECT"
            " COALESCE(SUM(status='pending'), 0) AS pending,"
            " COALESCE(SUM(status='in_progress'), 0) AS in_progress,"
            " COALESCE(SUM(status='pending' AND not_before>?), 0) AS waiting"
            " FROM jobs",
            (now,),
        ).fetchone()
        dlq = db.execute("SELECT COUNT(*) FROM dlq").fetchone()[0]
        return QueueCounts(row["pending"], row["in_progress"], row["waiting"], dlq)

    # --- what reached Plex ---------------------------------------------------------------------

    def has_pushed(self) -> bool:
        """Anything was ever written to Plex from this store."""
        return self._db().execute("SELECT 1 FROM pushed LIMIT 1").fetchone() is not None

    def pushed(self, scene_id: str) -> Pushed | None:
        row = self._db().execute("SELECT * FROM pushed WHERE scene_id=?", (scene_id,)).fetchone()
        if row is None:
            return None
        return Pushed(
            scene_id=row["scene_id"],
            payload_hash=row["payload_hash"],
            state=json.loads(row["state"]),
            poster_source=row["poster_source"],
            poster_hash=row["poster_hash"],
            synced_at=row["synced_at"],
        )

    def complete_pushed(self, job: Job, record: Pushed) -> bool:
        """In one transaction: remember what reached Plex, finish the job, count it."""
        now = self._clock.now()
        with self._tx() as db:
            _upsert_pushed(db, record, now)
            removed = db.execute(
                "DELETE FROM jobs WHERE scene_id=? AND payload_hash=?",
                (job.scene_id, job.payload_hash),
            ).rowcount
            if not removed:
                db.execute("UPDATE jobs SET status='pending' WHERE scene_id=?", (job.scene_id,))
            self._count(db, now, synced=1)
        return bool(removed)

    def record_pushed(self, record: Pushed) -> None:
        """Remember what reached Plex while the job stays queued (its poster is still pending)."""
        with self._tx() as db:
            _upsert_pushed(db, record, self._clock.now())

    def forget_pushed(self) -> None:
        """Forget what was pushed, so the next sync rewrites everything (e.g. a new Plex)."""
        with self._tx() as db:
            db.execute("DELETE FROM pushed")

    def record_dropped_follow_up(self, what: str, error: str, at: float) -> None:
        """A rename or merge follow-up was given up: the next library check reports it."""
        kept = self.dropped_follow_ups()
        kept.append({"what": what, "error": error, "at": at})
        self.set_value(DROPPED_KEY, kept[-DROPPED_KEPT:])

    def dropped_follow_ups(self) -> list[dict[str, Any]]:
        saved = self.get_value(DROPPED_KEY)
        return [d for d in saved if isinstance(d, dict)] if isinstance(saved, list) else []

    def clear_dropped_follow_ups(self) -> None:
        self.set_value(DROPPED_KEY, [])


def _upsert_pushed(db: sqlite3.Connection, record: Pushed, now: float) -> None:
    db.execute(
        "INSERT INTO pushed (scene_id, payload_hash, state, poster_source, poster_hash,"
        " synced_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(scene_id) DO UPDATE SET"
        " payload_hash=excluded.payload_hash, state=excluded.state,"
        " poster_source=excluded.poster_source, poster_hash=excluded.poster_hash,"
        " synced_at=excluded.synced_at",
        (
            record.scene_id,
            record.payload_hash,
            json.dumps(record.state, ensure_ascii=False, sort_keys=True),
            record.poster_source,
            record.poster_hash,
            now,
        ),
    )
