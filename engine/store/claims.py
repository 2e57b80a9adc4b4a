"""ClaimStore: which scene was last written to each Plex item, and scenes that share a file.

The rules that read and keep these rows (`check_claim`, `recheck_conflicts`) are planning and
live in `engine/plan/claims.py`; this module is only their tables.
"""

from __future__ import annotations

import json
from typing import Any

from engine.store.base import SqliteStore

CLAIMS_SCHEMA = """
CREATE TABLE IF NOT EXISTS plex_claims (
    rating_key TEXT PRIMARY KEY,
    scene_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS file_conflicts (
    scene_id TEXT PRIMARY KEY,
    other_id TEXT NOT NULL,
    path TEXT NOT NULL
);
"""


class ClaimStore(SqliteStore):
    def claim_owner(self, rating_key: str) -> str | None:
        row = (
            self._db()
            .execute("SELECT scene_id FROM plex_claims WHERE rating_key=?", (rating_key,))
            .fetchone()
        )
        return None if row is None else str(row[0])

    def claim(self, rating_key: str, scene_id: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO plex_claims (rating_key, scene_id) VALUES (?, ?)"
                " ON CONFLICT(rating_key) DO UPDATE SET scene_id=excluded.scene_id",
                (rating_key, scene_id),
            )
            db.execute("DELETE FROM file_conflicts WHERE scene_id=?", (scene_id,))

    def written_state(self, scene_id: str) -> dict[str, Any] | None:
        """What we last wrote to Plex for a scene (`pushed.state`), or None."""
        row = self._db().execute("SELECT state FROM pushed WHERE scene_id=?", (scene_id,))
        found = row.fetchone()
        return None if found is None else dict(json.loads(found[0]))

    def record_conflict(self, scene_id: str, other_id: str, path: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO file_conflicts (scene_id, other_id, path) VALUES (?, ?, ?)",
                (scene_id, other_id, path),
            )

    def dead_lettered_conflicts(self) -> list[tuple[int, str, str, str]]:
        """(DLQ entry id, scene, other scene, file) of conflicts still in the DLQ; the rest go."""
        with self._tx() as db:
            db.execute(
                "DELETE FROM file_conflicts WHERE scene_id NOT IN (SELECT scene_id FROM dlq)"
            )
            rows = db.execute(
                "SELECT dlq.id, c.scene_id, c.other_id, c.path FROM file_conflicts c"
                " JOIN dlq ON dlq.scene_id = c.scene_id ORDER BY dlq.id"
            ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]

    def drop_conflict(self, scene_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM file_conflicts WHERE scene_id=?", (scene_id,))
