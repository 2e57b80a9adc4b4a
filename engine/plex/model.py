"""Plain records of what the engine knows about Plex (no plexapi import needed to use them)."""

from __future__ import annotations

from dataclasses import dataclass

# How many tags of a kind a section listing shows at most (tag kinds as in edits). Collections
# stop after 2 (python-plexapi issue #200; Kometa issue #1542: "item.collections only returns
# the first two collections"), so a listing that shows fewer holds the item's whole list. Other
# kinds are cut too, at counts no source we trust states: they are never taken as whole here.
LISTING_CUTS = {"collection": 2}


@dataclass(frozen=True, slots=True)
class PlexItem:
    """What the engine needs of one Plex movie (listings truncate collections, genres, actors)."""

    rating_key: str
    section_key: str
    title: str
    studio: str
    summary: str
    originally_available_at: str
    genres: tuple[str, ...]
    actors: tuple[str, ...]
    collections: tuple[str, ...]
    files: tuple[str, ...]
    added_at: int
    locked: frozenset[str] = frozenset()
    complete: bool = False  # True for the full item (GET /library/metadata), False for listings
    updated_at: int = 0  # Plex's own clock: when the item last changed in Plex
    # Tag kinds whose list may be short even when `complete` (tags remembered from our write:
    # collections can change from the collection's side without moving `updatedAt`).
    partial: frozenset[str] = frozenset()
    directors: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    # Plex's other text fields as (name, value), named as in edits (`tagline`, `titleSort`, ...).
    texts: tuple[tuple[str, str], ...] = ()
    # The token's account's rating, 0-10 (Plex's `userRating`, per account); None: not rated.
    user_rating: float | None = None

    def text(self, name: str) -> str:
        """One of `texts` by its edit name ("" when Plex has none)."""
        return next((value for key, value in self.texts if key == name), "")

    def whole(self, kind: str) -> bool:
        """Every tag of `kind` (an edit's tag kind: actor, genre, collection) is in this record."""
        return self.complete and kind not in self.partial

    def listed_whole(self, kind: str) -> bool:
        """A fresh listing proves the list whole: it shows fewer tags than Plex's cut."""
        cut = LISTING_CUTS.get(kind)
        tags: tuple[str, ...] = getattr(self, _ATTRS[kind])
        return self.whole(kind) or (cut is not None and len(tags) < cut)


_ATTRS = {
    "actor": "actors",
    "genre": "genres",
    "collection": "collections",
    "director": "directors",
    "label": "labels",
}
# The text fields an edit may set besides title, studio, summary and date (`plexapi/mixins/
# edit.py`: the Tagline, OriginalTitle, EditionTitle, ContentRating and SortTitle mixins).
TEXT_FIELDS = ("tagline", "originalTitle", "editionTitle", "contentRating", "titleSort")


@dataclass(frozen=True)
class PlexSection:
    key: str
    title: str
    locations: tuple[str, ...] = ()  # the section's folders as Plex sees them (`Location@path`)
