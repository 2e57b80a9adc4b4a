"""Plain records of what the engine knows about Plex (no plexapi import needed to use them)."""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class PlexSection:
    key: str
    title: str
