"""What the Stash poller remembers in the engine's database: the version of each scene it read.

A version is the scene's `updated_at` and a digest of its content: two edits in one second share
a timestamp, so the text alone cannot tell them apart. A re-read (a settle pass, a partial page,
a restart) queues nothing for a version already read, so a dead-letter entry the user deleted
stays deleted until Stash has a newer edit of the scene.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from engine.history import SqliteStore

POLL_SCHEMA = """
CREATE TABLE IF NOT EXISTS stash_seen (
    scene_id TEXT PRIMARY KEY,
    updated_at TEXT NOT NULL,
    digest TEXT NOT NULL
);
"""
_CHUNK = 500  # ids per IN (...) lookup, under SQLite's variable limit


class PollStore(SqliteStore):
    def seen_versions(self, scene_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(updated_at, digest) last read for each of `scene_ids` that was read before."""
        ids = list(dict.fromkeys(scene_ids))
        found: dict[str, tuple[str, str]] = {}
        db = self._db()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT * FROM stash_seen WHERE scene_id IN ({marks})", chunk
            ).fetchall()
            found.update((row["scene_id"], (row["updated_at"], row["digest"])) for row in rows)
        return found

    def mark_seen(self, versions: Iterable[tuple[str, str, str]]) -> None:
        """Remember (scene_id, updated_at, digest) as read."""
        with self._tx() as db:
            db.executemany(
                "INSERT INTO stash_seen (scene_id, updated_at, digest) VALUES (?, ?, ?)"
                " ON CONFLICT(scene_id) DO UPDATE SET updated_at=excluded.updated_at,"
                " digest=excluded.digest",
                list(versions),
            )

    def prune_seen(self, older_than: str) -> int:
        """Forget versions below a Stash timestamp that no poll will read again."""
        with self._tx() as db:
            return db.execute("DELETE FROM stash_seen WHERE updated_at<?", (older_than,)).rowcount

    def dead_letter_scene(
        self, scene_id: str, *, title: str, message: str, payload: dict[str, Any]
    ) -> None:
        """Dead-letter a scene Stash sent malformed; a queued older version of it goes too."""
        now = self._clock.now()
        with self._tx() as db:
            db.execute("DELETE FROM jobs WHERE scene_id=? AND status='pending'", (scene_id,))
            db.execute(
                "INSERT INTO dlq (scene_id, title, error_class, message, attempts,"
                " first_failure_at, last_failure_at, payload)"
                " VALUES (?, ?, 'permanent', ?, 0, ?, ?, ?)"
                " ON CONFLICT(scene_id) DO UPDATE SET title=excluded.title,"
                " error_class=excluded.error_class, message=excluded.message,"
                " attempts=excluded.attempts, last_failure_at=excluded.last_failure_at,"
                " payload=excluded.payload",
                (scene_id, title, message, now, now, json.dumps(payload, ensure_ascii=False)),
            )
