"""What the app did, for "Recent activity": each synced scene and what changed in Plex, each
scene that failed for good, each library check. Kept as long as dead-letter entries are.

Pages are read newest first by id (keyset, not OFFSET), so the 1,000th page of 100,000 rows
costs what the first does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from engine.clock import DAY
from engine.store.base import SqliteStore

ACTIVITY_SCHEMA = """
CREATE TABLE IF NOT EXISTS activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    scene_id TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    rating_key TEXT,
    server_id TEXT
);
CREATE INDEX IF NOT EXISTS activity_at ON activity (at);
"""

# (state key, word for it) for the scalar fields of `desired.desired_state`.
_SCALAR_WORDS = (
    ("title", "title"),
    ("studio", "studio"),
    ("summary", "summary"),
    ("originallyAvailableAt", "date"),
    ("collection", "collection"),
    ("tagline", "code"),
    ("originalTitle", "code"),
    ("editionTitle", "code"),
    ("contentRating", "content rating"),
    ("titleSort", "sort title"),
    ("addedAt", "added at"),
    ("userRating", "rating"),
)
# (state key, singular, plural) for the tag lists.
_LIST_WORDS = (
    ("genre", "tag", "tags"),
    ("actor", "performer", "performers"),
    ("director", "director", "directors"),
    ("label", "label", "labels"),
)
ART = "_art"  # the background art's hash, as the pusher keeps it in a record's state


class ActivityKind(Enum):
    SYNCED = "synced"
    FAILED = "failed"  # dead-lettered or skipped: it will not be tried again by itself
    CHECK = "check"  # a library check finished
    HELD = "held"  # a synced scene left a gate (organized, StashID): no longer synced


@dataclass(frozen=True)
class Activity:
    id: int
    at: float  # epoch seconds
    kind: ActivityKind
    scene_id: str
    title: str
    summary: str  # what changed ("title, +2 tags, poster"), why it failed, what a check found
    rating_key: str | None = None  # the Plex item, for a link to Plex's web app
    server_id: str | None = None  # Plex's machineIdentifier, for the same link


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(name) for name in value]


def _counted(count: int, sign: str, singular: str, plural: str) -> str:
    return f"{sign}{count} {singular if count == 1 else plural}"


def _scalar(state: dict[str, Any], key: str) -> Any:
    value = state.get(key)
    # "no rating" is -1 (plexapi's reset value): the same as no rating known at all
    return None if key == "userRating" and value == -1.0 else value


def changes_summary(
    previous: dict[str, Any] | None, current: dict[str, Any], *, poster: bool = False
) -> str:
    """What a push changed, in words: "title, studio, +2 tags, -1 performer, poster"."""
    before = previous or {}
    parts = []
    for key, word in _SCALAR_WORDS:
        now, then = _scalar(current, key), _scalar(before, key)
        removed = key == "userRating" and current.get(key) == -1.0 and then is not None
        changed = (now is not None and now != then) or removed
        if changed and word not in parts:
            parts.append(word)
    for key, singular, plural in _LIST_WORDS:
        if current.get(key) is None:
            continue  # not ours to manage
        old = {name.casefold() for name in _names(before.get(key))}
        new = {name.casefold() for name in _names(current.get(key))}
        if new - old:
            parts.append(_counted(len(new - old), "+", singular, plural))
        if old - new:
            parts.append(_counted(len(old - new), "-", singular, plural))
    if poster:
        parts.append("poster")
    if current.get(ART) and current.get(ART) != before.get(ART):
        parts.append("background art")
    return ", ".join(parts) if parts else "nothing to change"


class ActivityStore(SqliteStore):
    SCHEMAS: tuple[str, ...] = (ACTIVITY_SCHEMA,)  # a reader may open the file before the engine

    def record_activity(
        self,
        kind: ActivityKind,
        *,
        scene_id: str = "",
        title: str = "",
        summary: str = "",
        rating_key: str | None = None,
        server_id: str | None = None,
    ) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO activity (at, kind, scene_id, title, summary, rating_key, server_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._clock.now(), kind.value, scene_id, title, summary, rating_key, server_id),
            )
        return int(cursor.lastrowid or 0)

    def activity_page(self, limit: int = 100, *, before_id: int | None = None) -> list[Activity]:
        """Up to `limit` entries, newest first, older than `before_id` (keyset paging)."""
        rows = self._db().execute(
            "SELECT * FROM activity WHERE id<? ORDER BY id DESC LIMIT ?",
            (before_id if before_id is not None else 2**62, limit),
        )
        return [_activity(row) for row in rows]

    def activity_count(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM activity").fetchone()[0])

    def activity_purge(self, older_than_days: float) -> int:
        """Forget entries older than the retention period (the DLQ's)."""
        cutoff = self._clock.now() - older_than_days * DAY
        with self._tx() as db:
            return db.execute("DELETE FROM activity WHERE at<?", (cutoff,)).rowcount

    def add_activity_rows(self, rows: Iterable[tuple[float, ActivityKind, str, str, str]]) -> None:
        """Bulk insert (at, kind, scene_id, title, summary): for benchmarks and the demo."""
        with self._tx() as db:
            db.executemany(
                "INSERT INTO activity (at, kind, scene_id, title, summary) VALUES (?, ?, ?, ?, ?)",
                [(at, kind.value, sid, title, text) for at, kind, sid, title, text in rows],
            )


def _activity(row: sqlite3.Row) -> Activity:
    return Activity(
        id=row["id"],
        at=row["at"],
        kind=ActivityKind(row["kind"]),
        scene_id=row["scene_id"],
        title=row["title"],
        summary=row["summary"],
        rating_key=row["rating_key"],
        server_id=row["server_id"],
    )
