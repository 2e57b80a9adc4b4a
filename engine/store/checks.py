"""What "Check library" keeps in SQLite: progress, findings, and what proves items unchanged.

Beside the engine's tables in the same file, through its own connections. A run's progress and
findings are written as it goes, so after a crash (even `kill -9`) the run resumes where its last
finished step left it; the findings of the last finished run stay visible until a new run
finishes. The Plex items a run has swept live in their own index tables (`check_plex_items`,
`check_plex_paths`), apart from the pusher's index, which jobs use meanwhile.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from engine.store.plex_index import IndexStore, index_schema

CHECK_SCHEMA = """
CREATE TABLE IF NOT EXISTS check_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS check_findings (
    run_id INTEGER NOT NULL,
    scene_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    fields TEXT NOT NULL DEFAULT '[]',
    kept TEXT NOT NULL DEFAULT '[]',
    rating_key TEXT,
    detail TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL,
    dlq_id INTEGER,
    PRIMARY KEY (run_id, scene_id, kind)
);
CREATE TABLE IF NOT EXISTS check_suspects (
    scene_id TEXT PRIMARY KEY,
    rating_key TEXT NOT NULL,
    section_key TEXT NOT NULL,
    compare_key TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS check_baseline (
    rating_key TEXT PRIMARY KEY,
    updated_at INTEGER NOT NULL,
    compare_key TEXT NOT NULL,
    fields TEXT NOT NULL,
    kept TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS check_written (
    scene_id TEXT PRIMARY KEY,
    rating_key TEXT NOT NULL,
    written_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS check_forced (scene_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS check_scenes (scene_id TEXT PRIMARY KEY);
"""

RUN_KEY = "run"
LAST_KEY = "last"


class CheckKind(StrEnum):
    """How a scene differs between Stash and Plex."""

    NOT_IN_PLEX = "not_in_plex"  # Plex has no item for the scene's file
    NEVER_SYNCED = "never_synced"  # an item is there, but we never wrote this scene to it
    # Only an item of the same file name, in a folder nothing vouches for: the user confirms.
    POSSIBLE_MATCH = "possible_match"
    DRIFTED = "drifted"  # fields in Plex differ from what Stash says
    ORPHAN = "orphan"  # we synced the scene, but the item we wrote is gone from Plex
    DLQ_RESOLVED = "dlq_resolved"  # a dead-lettered scene whose cause has gone
    # Renames or merges in Stash whose follow-up reads kept failing and were given up (no scene:
    # the check compares every scene anyway, so what they missed shows as drift).
    FOLLOW_UP_DROPPED = "follow_up_dropped"


@dataclass(frozen=True)
class Finding:
    scene_id: str
    kind: CheckKind
    title: str
    payload: dict[str, Any]
    fields: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # differing fields a normal sync leaves alone (preserve_plex_edits)
    rating_key: str | None = None
    detail: str = ""
    dlq_id: int | None = None


@dataclass(frozen=True)
class CheckSummary:
    """The last finished check."""

    run_id: int
    started_at: float
    finished_at: float
    scenes: int
    counts: dict[str, int] = field(default_factory=dict)
    plex_requests: int = 0
    full_reads: int = 0


@dataclass(frozen=True)
class Baseline:
    updated_at: int
    compare_key: str
    fields: tuple[str, ...]
    kept: tuple[str, ...]


class CheckStore(IndexStore):
    """The library check's tables; an `IndexStore` over its own index tables."""

    ITEMS_TABLE = "check_plex_items"
    PATHS_TABLE = "check_plex_paths"
    SCHEMAS = (index_schema(ITEMS_TABLE, PATHS_TABLE), CHECK_SCHEMA)

    # --- run state -----------------------------------------------------------------------------

    def _meta(self, key: str) -> dict[str, Any] | None:
        row = self._db().execute("SELECT value FROM check_meta WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    @staticmethod
    def _set_meta(db: sqlite3.Connection, key: str, value: dict[str, Any] | None) -> None:
        if value is None:
            db.execute("DELETE FROM check_meta WHERE key=?", (key,))
        else:
            db.execute(
                "INSERT INTO check_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, json.dumps(value)),
            )

    def run_state(self) -> dict[str, Any] | None:
        """The check in progress (None when none is)."""
        return self._meta(RUN_KEY)

    def save_run(self, state: dict[str, Any]) -> None:
        with self._tx() as db:
            self._set_meta(db, RUN_KEY, state)

    def start_run(self, state: dict[str, Any]) -> None:
        """A fresh run: empty index and suspects, then its state."""
        with self._tx() as db:
            db.execute(f"DELETE FROM {self.PATHS_TABLE}")
            db.execute(f"DELETE FROM {self.ITEMS_TABLE}")
            db.execute("DELETE FROM check_suspects")
            db.execute("DELETE FROM check_scenes")
            db.execute("DELETE FROM check_findings WHERE run_id=?", (state["id"],))
            self._set_meta(db, RUN_KEY, state)

    def finish_run(self, summary: CheckSummary) -> None:
        """Keep only this run's findings, record the summary, drop the swept index."""
        with self._tx() as db:
            db.execute("DELETE FROM check_findings WHERE run_id<>?", (summary.run_id,))
            db.execute(f"DELETE FROM {self.PATHS_TABLE}")
            db.execute(f"DELETE FROM {self.ITEMS_TABLE}")
            db.execute("DELETE FROM check_suspects")
            db.execute("DELETE FROM check_scenes")
            self._set_meta(db, RUN_KEY, None)
            self._set_meta(db, LAST_KEY, summary.__dict__)

    def abandon_run(self) -> None:
        with self._tx() as db:
            run = self._meta(RUN_KEY)
            if run is not None:
                db.execute("DELETE FROM check_findings WHERE run_id=?", (run["id"],))
            db.execute("DELETE FROM check_suspects")
            self._set_meta(db, RUN_KEY, None)

    def last_summary(self) -> CheckSummary | None:
        data = self._meta(LAST_KEY)
        try:
            return None if data is None else CheckSummary(**data)
        except TypeError:
            return None

    def set_schedule_anchor(self, when: float) -> None:
        """Start the schedule's clock (first start: the first check comes one interval later)."""
        with self._tx() as db:
            self._set_meta(db, "anchor", {"at": when})

    def schedule_anchor(self) -> float | None:
        data = self._meta("anchor")
        return float(data["at"]) if data and isinstance(data.get("at"), int | float) else None

    # --- findings ------------------------------------------------------------------------------

    def put_findings(self, run_id: int, findings: Iterable[Finding]) -> None:
        with self._tx() as db:
            _insert_findings(db, run_id, findings)

    def remove_findings(self, run_id: int, scene_ids: Iterable[str]) -> None:
        with self._tx() as db:
            db.executemany(
                "DELETE FROM check_findings WHERE run_id=? AND scene_id=?",
                [(run_id, s) for s in scene_ids],
            )

    def findings(
        self, *, run_id: int | None = None, limit: int = 10_000, offset: int = 0
    ) -> list[Finding]:
        """The findings of `run_id`, or of the last finished check."""
        if run_id is None:
            last = self.last_summary()
            if last is None:
                return []
            run_id = last.run_id
        rows = self._db().execute(
            "SELECT * FROM check_findings WHERE run_id=? ORDER BY kind, CAST(scene_id AS INTEGER),"
            " scene_id LIMIT ? OFFSET ?",
            (run_id, limit, offset),
        )
        return [_finding(row) for row in rows]

    def counts(self, run_id: int) -> dict[str, int]:
        rows = self._db().execute(
            "SELECT kind, COUNT(*) FROM check_findings WHERE run_id=? GROUP BY kind", (run_id,)
        )
        counts = {kind.value: 0 for kind in CheckKind}
        counts.update({str(row[0]): int(row[1]) for row in rows})
        return counts

    # --- suspects: items a listing could not settle --------------------------------------------

    def add_suspects(self, rows: Iterable[tuple[str, str, str, str, dict[str, Any]]]) -> None:
        """(scene_id, rating_key, section_key, compare_key, payload) rows."""
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO check_suspects VALUES (?,?,?,?,?)",
                [(s, rk, sec, k, json.dumps(p, ensure_ascii=False)) for s, rk, sec, k, p in rows],
            )

    def next_suspects(self, limit: int) -> list[tuple[str, str, str, str, dict[str, Any]]]:
        rows = (
            self._db()
            .execute("SELECT * FROM check_suspects ORDER BY rating_key LIMIT ?", (limit,))
            .fetchall()
        )
        return [(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def note_scenes(self, scene_ids: Iterable[str]) -> None:
        """Scenes with a file this run has seen (a page may be read twice: counted once)."""
        with self._tx() as db:
            db.executemany(
                "INSERT OR IGNORE INTO check_scenes VALUES (?)", [(s,) for s in scene_ids]
            )

    def scenes_seen(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM check_scenes").fetchone()[0])

    def index_has(self, rating_key: str) -> bool:
        row = (
            self._db()
            .execute(f"SELECT 1 FROM {self.ITEMS_TABLE} WHERE rating_key=?", (rating_key,))
            .fetchone()
        )
        return row is not None

    def suspects_left(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM check_suspects").fetchone()[0])

    def settle_suspect(
        self, run_id: int, scene_id: str, findings: list[Finding], baseline: tuple[str, Baseline]
    ) -> None:
        """One full read done: its findings, the item's new baseline, the suspect gone."""
        rating_key, base = baseline
        with self._tx() as db:
            db.execute(
                "DELETE FROM check_findings WHERE run_id=? AND scene_id=?", (run_id, scene_id)
            )
            db.execute("DELETE FROM check_suspects WHERE scene_id=?", (scene_id,))
            db.execute(
                "INSERT OR REPLACE INTO check_baseline VALUES (?,?,?,?,?)",
                (
                    rating_key,
                    base.updated_at,
                    base.compare_key,
                    json.dumps(list(base.fields)),
                    json.dumps(list(base.kept)),
                ),
            )
            _insert_findings(db, run_id, findings)

    def drop_suspect(self, scene_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM check_suspects WHERE scene_id=?", (scene_id,))

    # --- what proves an item unchanged ---------------------------------------------------------

    def baselines(self, rating_keys: list[str]) -> dict[str, Baseline]:
        if not rating_keys:
            return {}
        marks = ",".join("?" * len(rating_keys))
        rows = self._db().execute(
            f"SELECT * FROM check_baseline WHERE rating_key IN ({marks})", rating_keys
        )
        return {
            r[0]: Baseline(int(r[1]), r[2], tuple(json.loads(r[3])), tuple(json.loads(r[4])))
            for r in rows
        }

    def note_written(self, scene_id: str, rating_key: str, when: float) -> None:
        """A push wrote this scene's metadata to the item at `when` (our clock). What a full read
        saw of the item before no longer holds, even if Plex's updatedAt (whole seconds) did not
        move."""
        with self._tx() as db:
            db.execute("DELETE FROM check_baseline WHERE rating_key=?", (rating_key,))
            db.execute(
                "INSERT OR REPLACE INTO check_written VALUES (?,?,?)", (scene_id, rating_key, when)
            )

    def written(self, scene_ids: list[str]) -> dict[str, tuple[str, float]]:
        if not scene_ids:
            return {}
        marks = ",".join("?" * len(scene_ids))
        rows = self._db().execute(
            f"SELECT * FROM check_written WHERE scene_id IN ({marks})", scene_ids
        )
        return {r[0]: (r[1], float(r[2])) for r in rows}

    # --- fixes ---------------------------------------------------------------------------------

    def force(self, scene_ids: Iterable[str]) -> None:
        """These scenes' next push rewrites every field, even unchanged and preserved ones."""
        with self._tx() as db:
            db.executemany(
                "INSERT OR IGNORE INTO check_forced VALUES (?)", [(s,) for s in scene_ids]
            )

    def is_forced(self, scene_id: str) -> bool:
        row = (
            self._db()
            .execute("SELECT 1 FROM check_forced WHERE scene_id=?", (scene_id,))
            .fetchone()
        )
        return row is not None

    def unforce(self, scene_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM check_forced WHERE scene_id=?", (scene_id,))


def _insert_findings(db: sqlite3.Connection, run_id: int, findings: Iterable[Finding]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO check_findings (run_id, scene_id, kind, title, fields,"
        " kept, rating_key, detail, payload, dlq_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            (
                run_id,
                f.scene_id,
                f.kind.value,
                f.title,
                json.dumps(list(f.fields)),
                json.dumps(list(f.kept)),
                f.rating_key,
                f.detail,
                json.dumps(f.payload, ensure_ascii=False),
                f.dlq_id,
            )
            for f in findings
        ],
    )


def _finding(row: sqlite3.Row) -> Finding:
    return Finding(
        scene_id=row["scene_id"],
        kind=CheckKind(row["kind"]),
        title=row["title"],
        payload=json.loads(row["payload"]),
        fields=tuple(json.loads(row["fields"])),
        kept=tuple(json.loads(row["kept"])),
        rating_key=row["rating_key"],
        detail=row["detail"],
        dlq_id=row["dlq_id"],
    )
