"""Plain records of what the engine knows about Plex (no plexapi import needed to use them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlexItem:
    """What the engine needs of one Plex movie (listings truncate genres and actors)."""

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


@dataclass(frozen=True)
class PlexSection:
    key: str
    title: str
