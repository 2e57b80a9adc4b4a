"""Possible matches waiting for the user, and the folder pairs the user confirmed.

A scene whose only match is a Plex item of the same file name in a folder nothing vouches for
(`matching.PathIndex.find`) is dead-lettered, and its candidates are kept here. Confirming one
records its (Stash folder, Plex folder) pair: from then on the matcher trusts same-name files
between those two folders, this scene's and its neighbours'.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.path_keys import folder_key
from engine.store.base import SqliteStore

MATCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS match_folders (
    stash_folder TEXT NOT NULL,
    plex_folder TEXT NOT NULL,
    PRIMARY KEY (stash_folder, plex_folder)
);
CREATE TABLE IF NOT EXISTS possible_matches (
    scene_id TEXT NOT NULL,
    rating_key TEXT NOT NULL,
    stash_path TEXT NOT NULL,
    plex_path TEXT NOT NULL,
    PRIMARY KEY (scene_id, rating_key)
);
"""


@dataclass(frozen=True)
class Candidate:
    """A Plex item that may be a scene's file: only the file name says so."""

    rating_key: str
    stash_path: str
    plex_path: str


class MatchStore(SqliteStore):
    def folders_paired(self, stash_folder: str, plex_folder: str) -> bool:
        row = (
            self._db()
            .execute(
                "SELECT 1 FROM match_folders WHERE stash_folder=? AND plex_folder=?",
                (stash_folder, plex_folder),
            )
            .fetchone()
        )
        return row is not None

    def possible_put(self, scene_id: str, candidates: list[tuple[str, str, str]]) -> None:
        """A scene's candidates, (Stash file, Plex file, rating key), replacing older ones."""
        with self._tx() as db:
            db.execute("DELETE FROM possible_matches WHERE scene_id=?", (scene_id,))
            db.executemany(
                "INSERT INTO possible_matches (scene_id, rating_key, stash_path, plex_path)"
                " VALUES (?, ?, ?, ?)",
                [(scene_id, key, stash, plex) for stash, plex, key in candidates],
            )

    def possible_for(self, scene_id: str) -> list[Candidate]:
        rows = self._db().execute(
            "SELECT rating_key, stash_path, plex_path FROM possible_matches WHERE scene_id=?"
            " ORDER BY plex_path",
            (scene_id,),
        )
        return [Candidate(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def confirm_match(self, scene_id: str, rating_key: str | None = None) -> Candidate | None:
        """Pair the folders of the scene's candidate (`rating_key`, or its only one); None when
        there is no such candidate (or several and none named)."""
        candidates = self.possible_for(scene_id)
        if rating_key is not None:
            candidates = [c for c in candidates if c.rating_key == rating_key]
        if len(candidates) != 1:
            return None
        chosen = candidates[0]
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO match_folders (stash_folder, plex_folder) VALUES (?, ?)",
                (folder_key(chosen.stash_path), folder_key(chosen.plex_path)),
            )
            db.execute("DELETE FROM possible_matches WHERE scene_id=?", (scene_id,))
        return chosen

    def paired_in_dlq(self) -> list[int]:
        """DLQ entries with a candidate in a folder pair confirmed since: their match is sure."""
        rows = self._db().execute(
            "SELECT dlq.id, p.stash_path, p.plex_path FROM possible_matches p"
            " JOIN dlq ON dlq.scene_id = p.scene_id ORDER BY dlq.id"
        )
        return sorted(
            {
                int(row[0])
                for row in rows
                if self.folders_paired(folder_key(str(row[1])), folder_key(str(row[2])))
            }
        )
