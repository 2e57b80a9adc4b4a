"""The Plex items the engine matches against, kept in SQLite so memory stays flat in N.

Held in the engine's own database (tables `plex_items` and `plex_paths`), rebuilt by a full
sweep whenever the engine starts or Plex may have changed; only the engine thread writes it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable

from engine.history import SqliteStore
from engine.plex_model import PlexItem

INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS plex_items (
    rating_key TEXT PRIMARY KEY,
    added_at INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS plex_paths (
    path TEXT PRIMARY KEY,
    basename TEXT NOT NULL,
    rating_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS plex_paths_basename ON plex_paths (basename);
"""


def _encode(item: PlexItem) -> str:
    return json.dumps(
        [
            item.section_key,
            item.title,
            item.studio,
            item.summary,
            item.originally_available_at,
            item.genres,
            item.actors,
            item.collections,
            item.files,
            item.added_at,
            sorted(item.locked),
        ],
        ensure_ascii=False,
    )


def _decode(rating_key: str, data: str) -> PlexItem:
    section, title, studio, summary, date, genres, actors, collections, files, added, locked = (
        json.loads(data)
    )
    return PlexItem(
        rating_key,
        section,
        title,
        studio,
        summary,
        date,
        tuple(genres),
        tuple(actors),
        tuple(collections),
        tuple(files),
        added,
        frozenset(locked),
    )


class IndexStore(SqliteStore):
    """Storage for `matching.PathIndex`."""

    SCHEMAS: tuple[str, ...] = (INDEX_SCHEMA,)

    def index_clear(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM plex_paths")
            db.execute("DELETE FROM plex_items")

    def index_put(
        self,
        items: Iterable[PlexItem],
        basename: Callable[[str], str],
        path_key: Callable[[str], str],
    ) -> None:
        """Insert or replace items (one transaction); `path_key(path)` keys the lookup by path,
        `basename(path)` the file-name fallback."""
        with self._tx() as db:
            for item in items:
                self._put(db, item, basename, path_key)

    @staticmethod
    def _put(
        db: sqlite3.Connection,
        item: PlexItem,
        basename: Callable[[str], str],
        path_key: Callable[[str], str],
    ) -> None:
        db.execute(
            "INSERT INTO plex_items (rating_key, added_at, data) VALUES (?, ?, ?)"
            " ON CONFLICT(rating_key) DO UPDATE SET added_at=excluded.added_at,"
            " data=excluded.data",
            (item.rating_key, item.added_at, _encode(item)),
        )
        db.executemany(
            "INSERT INTO plex_paths (path, basename, rating_key) VALUES (?, ?, ?)"
            " ON CONFLICT(path) DO UPDATE SET rating_key=excluded.rating_key",
            [(path_key(path), basename(path), item.rating_key) for path in item.files],
        )

    def index_remove(self, item: PlexItem) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM plex_paths WHERE rating_key=?", (item.rating_key,))
            db.execute("DELETE FROM plex_items WHERE rating_key=?", (item.rating_key,))

    def index_by_path(self, path: str) -> PlexItem | None:
        """The item whose path has the key `path` (see `matching.path_key`)."""
        row = (
            self._db()
            .execute(
                "SELECT i.rating_key, i.data FROM plex_paths p JOIN plex_items i"
                " ON i.rating_key = p.rating_key WHERE p.path=?",
                (path,),
            )
            .fetchone()
        )
        return None if row is None else _decode(row[0], row[1])

    def index_by_basename(self, name: str) -> list[PlexItem]:
        rows = self._db().execute(
            "SELECT DISTINCT i.rating_key, i.data FROM plex_paths p JOIN plex_items i"
            " ON i.rating_key = p.rating_key WHERE p.basename=? ORDER BY i.rating_key",
            (name,),
        )
        return [_decode(row[0], row[1]) for row in rows]

    def index_size(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM plex_items").fetchone()[0])

    def index_newest_added_at(self) -> int:
        row = self._db().execute("SELECT MAX(added_at) FROM plex_items").fetchone()
        return int(row[0] or 0)
