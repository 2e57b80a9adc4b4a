"""What the Stash poller remembers in the engine's database: the version of each scene it read,
and the name of each tag, performer and studio (a renamed or vanished one sends its scenes again).

A version is the scene's `updated_at` and a digest of its content: two edits in one second share
a timestamp, so the text alone cannot tell them apart. A re-read (a settle pass, a partial page,
a restart) queues nothing for a version already read, so a dead-letter entry the user deleted
stays deleted until Stash has a newer edit of the scene.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from engine.store.base import SqliteStore

POLL_SCHEMA = """
CREATE TABLE IF NOT EXISTS stash_seen (
    scene_id TEXT PRIMARY KEY,
    updated_at TEXT NOT NULL,
    digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stash_objects (
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    name TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, object_id)
);
"""
_CHUNK = 500  # ids per IN (...) lookup, under SQLite's variable limit
# Where a name of each kind stands in what we wrote to Plex (`pushed.state`, see
# desired.desired_state) and in a queued payload (`jobs.payload`, StashScene.payload).
_STATE_FIELDS = {
    "tag": ("genre", "label", "collection"),
    "performer": ("actor",),
    "studio": ("studio", "collection"),
    "group": ("_groups",),  # the groups' own names (their collections may carry a prefix)
}
_PAYLOAD_FIELDS = {"tag": "tags", "performer": "performers", "studio": "studio", "group": "groups"}


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

    def known_objects(self, kind: str, object_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(name, updated_at) last read for each of these tags, performers or studios."""
        ids = list(dict.fromkeys(object_ids))
        found: dict[str, tuple[str, str]] = {}
        db = self._db()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT * FROM stash_objects WHERE kind=? AND object_id IN ({marks})",
                [kind, *chunk],
            ).fetchall()
            found.update((row["object_id"], (row["name"], row["updated_at"])) for row in rows)
        return found

    def remember_objects(self, kind: str, objects: Iterable[tuple[str, str, str]]) -> None:
        """Remember (object_id, name, updated_at) as read."""
        with self._tx() as db:
            db.executemany(
                "INSERT INTO stash_objects (kind, object_id, name, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(kind, object_id) DO UPDATE SET name=excluded.name,"
                " updated_at=excluded.updated_at",
                [(kind, *row) for row in objects],
            )

    def known_object_count(self, kind: str) -> int:
        row = self._db().execute("SELECT COUNT(*) FROM stash_objects WHERE kind=?", (kind,))
        return int(row.fetchone()[0])

    def known_object_ids(self, kind: str, *, after: str, limit: int) -> list[str]:
        """Known ids of `kind` above `after` (text order), a keyset over our own table."""
        rows = self._db().execute(
            "SELECT object_id FROM stash_objects WHERE kind=? AND object_id>?"
            " ORDER BY object_id LIMIT ?",
            (kind, after, limit),
        )
        return [row[0] for row in rows]

    def forget_objects(self, kind: str, object_ids: Iterable[str]) -> list[str]:
        """Forget objects Stash no longer has; returns the names they had."""
        ids = list(object_ids)
        names = [name for name, _ in self.known_objects(kind, ids).values()]
        with self._tx() as db:
            db.executemany(
                "DELETE FROM stash_objects WHERE kind=? AND object_id=?",
                [(kind, object_id) for object_id in ids],
            )
        return names

    def scenes_showing(self, kind: str, name: str) -> list[str]:
        """Scenes whose name of `kind` in Plex (as we wrote it) or in a queued job is `name`."""
        db = self._db()
        found: dict[str, None] = {}
        for key in _STATE_FIELDS[kind]:
            rows = db.execute(
                "SELECT scene_id FROM pushed WHERE EXISTS"
                f" (SELECT 1 FROM json_each(pushed.state, '$.{key}') WHERE value=?)",
                (name,),
            )
            found.update((row[0], None) for row in rows)
        rows = db.execute(
            "SELECT scene_id FROM jobs WHERE EXISTS (SELECT 1 FROM"
            f" json_each(jobs.payload, '$.{_PAYLOAD_FIELDS[kind]}') WHERE trim(value)=?)",
            (name,),
        )
        found.update((row[0], None) for row in rows)
        return list(found)
