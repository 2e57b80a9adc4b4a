"""The Plex items the engine matches against, kept in SQLite so memory stays flat in N.

Held in the engine's own database (tables `plex_items` and `plex_paths`) across restarts and
followed incrementally (`engine.push.index_follow`); only the engine thread writes it. `plex_known`
holds every tag of an item as of our last write, with the Plex time it stays true until;
`plex_writes` when (Plex's clock) we last wrote to each item.

Remembered tags are true only while Plex's `updatedAt` stays at the moment we knew them:
later, someone edited the item; earlier, Plex's database was restored from a backup taken
before (an item older than our own write to it is not what we wrote). Collections are never
taken from memory: Plex changes them from the collection's side without moving `updatedAt`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import replace

from engine.plex.model import PlexItem
from engine.store.base import SqliteStore

# Plex stamps an edit's `updatedAt` while it handles it, and its `Date` header (our record of the
# write) when it answers: whole seconds each, so the stamp can be one second earlier.
WRITE_SLACK = 1


def restored(updated_at: int, known_at: int | None) -> bool:
    """The item is older than the moment we knew it: not what we wrote (a restored database)."""
    return known_at is not None and updated_at < known_at - WRITE_SLACK


def index_schema(items: str, paths: str) -> str:
    """The two tables of an index (the engine's own, or another such as the library check's)."""
    return f"""
CREATE TABLE IF NOT EXISTS {items} (
    rating_key TEXT PRIMARY KEY,
    added_at INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {paths} (
    path TEXT PRIMARY KEY,
    basename TEXT NOT NULL,
    rating_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {paths}_basename ON {paths} (basename);
"""


INDEX_SCHEMA = (
    index_schema("plex_items", "plex_paths")
    + """
CREATE TABLE IF NOT EXISTS plex_known (
    rating_key TEXT PRIMARY KEY,
    as_of INTEGER NOT NULL,
    tags TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS plex_writes (
    rating_key TEXT PRIMARY KEY,
    written_at INTEGER NOT NULL
);
"""
)


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
            item.updated_at,
            {
                "directors": item.directors,
                "labels": item.labels,
                "texts": item.texts,
                "user_rating": item.user_rating,
            },
        ],
        ensure_ascii=False,
    )


def _decode(rating_key: str, data: str) -> PlexItem:
    fields = json.loads(data)
    updated = fields[11] if len(fields) > 11 else fields[9]  # rows written before updated_at
    section, title, studio, summary, date, genres, actors, collections, files, added, locked = (
        fields[:11]
    )
    more = fields[12] if len(fields) > 12 else {}  # rows written before issue 24's fields
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
        updated_at=updated,
        directors=tuple(more.get("directors", ())),
        labels=tuple(more.get("labels", ())),
        texts=tuple((str(k), str(v)) for k, v in more.get("texts", ())),
        user_rating=more.get("user_rating"),
    )


class IndexStore(SqliteStore):
    """Storage for `matching.PathIndex`."""

    SCHEMAS: tuple[str, ...] = (INDEX_SCHEMA,)
    ITEMS_TABLE = "plex_items"
    PATHS_TABLE = "plex_paths"

    def index_clear(self) -> None:
        with self._tx() as db:
            db.execute(f"DELETE FROM {self.PATHS_TABLE}")
            db.execute(f"DELETE FROM {self.ITEMS_TABLE}")

    def index_put(
        self,
        items: Iterable[PlexItem],
        basename: Callable[[str], str],
        path_key: Callable[[str], str],
    ) -> None:
        """Insert or replace items (one transaction, one statement per table); `path_key(path)`
        keys the lookup by path, `basename(path)` the file-name fallback."""
        items = list(items)
        with self._tx() as db:
            self._put_records(db, items)
            db.executemany(
                f"INSERT INTO {self.PATHS_TABLE} (path, basename, rating_key) VALUES (?, ?, ?)"
                " ON CONFLICT(path) DO UPDATE SET rating_key=excluded.rating_key",
                [(path_key(path), basename(path), i.rating_key) for i in items for path in i.files],
            )

    def index_update(self, item: PlexItem) -> None:
        """Replace an item's record after an edit (an edit never moves its files)."""
        with self._tx() as db:
            self._put_records(db, [item])

    def _put_records(self, db: sqlite3.Connection, items: list[PlexItem]) -> None:
        db.executemany(
            f"INSERT INTO {self.ITEMS_TABLE} (rating_key, added_at, data) VALUES (?, ?, ?)"
            " ON CONFLICT(rating_key) DO UPDATE SET added_at=excluded.added_at,"
            " data=excluded.data",
            [(item.rating_key, item.added_at, _encode(item)) for item in items],
        )

    def index_remove(self, item: PlexItem) -> None:
        with self._tx() as db:
            db.execute(f"DELETE FROM {self.PATHS_TABLE} WHERE rating_key=?", (item.rating_key,))
            db.execute(f"DELETE FROM {self.ITEMS_TABLE} WHERE rating_key=?", (item.rating_key,))

    def index_by_path(self, path: str) -> PlexItem | None:
        """The item whose path has the key `path` (see `matching.path_key`)."""
        row = (
            self._db()
            .execute(
                f"SELECT i.rating_key, i.data FROM {self.PATHS_TABLE} p JOIN {self.ITEMS_TABLE} i"
                " ON i.rating_key = p.rating_key WHERE p.path=?",
                (path,),
            )
            .fetchone()
        )
        return None if row is None else _decode(row[0], row[1])

    def index_by_basename(self, name: str) -> list[PlexItem]:
        rows = self._db().execute(
            f"SELECT DISTINCT i.rating_key, i.data FROM {self.PATHS_TABLE} p"
            f" JOIN {self.ITEMS_TABLE} i"
            " ON i.rating_key = p.rating_key WHERE p.basename=? ORDER BY i.rating_key",
            (name,),
        )
        return [_decode(row[0], row[1]) for row in rows]

    def index_size(self) -> int:
        return int(self._db().execute(f"SELECT COUNT(*) FROM {self.ITEMS_TABLE}").fetchone()[0])

    def known_put(self, item: PlexItem, as_of: int) -> None:
        """Every tag of `item` is what Plex holds while its `updatedAt` is at most `as_of`."""
        tags = json.dumps(
            [item.genres, item.actors, item.collections, item.directors, item.labels],
            ensure_ascii=False,
        )
        with self._tx() as db:
            db.execute(
                "INSERT INTO plex_known (rating_key, as_of, tags) VALUES (?, ?, ?)"
                " ON CONFLICT(rating_key) DO UPDATE SET as_of=excluded.as_of, tags=excluded.tags",
                (item.rating_key, as_of, tags),
            )

    def known_tags(self, item: PlexItem) -> PlexItem | None:
        """`item` with all its tags, if our record of them is still true (else None)."""
        row = (
            self._db()
            .execute("SELECT as_of, tags FROM plex_known WHERE rating_key=?", (item.rating_key,))
            .fetchone()
        )
        if row is None or item.updated_at > row[0] or item.updated_at <= 0:
            return None
        if restored(item.updated_at, row[0]):
            return None
        lists = json.loads(row[1])
        genres, actors = lists[0], lists[1]
        # The collections `item` shows, no more; directors and labels only if remembered.
        partial = {"collection"} if len(lists) > 4 else {"collection", "director", "label"}
        remembered = len(lists) > 4
        return replace(
            item,
            genres=tuple(genres),
            actors=tuple(actors),
            directors=tuple(lists[3]) if remembered else item.directors,
            labels=tuple(lists[4]) if remembered else item.labels,
            complete=True,
            partial=item.partial | partial,
        )

    def known_clear(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM plex_known")

    def note_plex_write(self, rating_key: str, written_at: int) -> None:
        """Plex answered our edit of the item at `written_at` (its clock, its `Date` header)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO plex_writes (rating_key, written_at) VALUES (?, ?) ON CONFLICT"
                "(rating_key) DO UPDATE SET written_at=excluded.written_at",
                (rating_key, written_at),
            )

    def plex_writes(self, rating_keys: list[str]) -> dict[str, int]:
        """When (Plex's clock) we last wrote to each of these items, for those we wrote."""
        if not rating_keys:
            return {}
        marks = ",".join("?" * len(rating_keys))
        rows = self._db().execute(
            f"SELECT rating_key, written_at FROM plex_writes WHERE rating_key IN ({marks})",
            rating_keys,
        )
        return {str(r[0]): int(r[1]) for r in rows}
