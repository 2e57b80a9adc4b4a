"""XML bodies shaped like Plex Media Server's answers (see the reference samples).

Strings are built directly (no ElementTree) because listings are on the hot path. Attribute
values go through ``quoteattr``, which also escapes newlines, so multi-line summaries survive.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from xml.sax.saxutils import quoteattr

from plexsync_sim.plex.library import LISTING_TAG_LIMITS, TAG_ELEMENTS, PlexMovie

XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
SERVER_VERSION = "1.41.0.8992-sim"
SECTION_UUID = "5e0c51b3-0000-4000-8000-000000000001"

_MOVIE_ATTRS = (
    "title",
    "titleSort",
    "originalTitle",
    "studio",
    "summary",
    "tagline",
    "contentRating",
    "originallyAvailableAt",
    "userRating",
    "editionTitle",
)


def attrs(**values: object) -> str:
    """`` key="value"`` pairs for every value that is not None."""
    return "".join(
        f" {key}={quoteattr(str(value))}" for key, value in values.items() if value is not None
    )


def document(body: str) -> bytes:
    return (XML_HEADER + body).encode("utf-8")


def container(children: Iterable[str], **values: object) -> bytes:
    inner = "".join(children)
    if not inner:
        return document(f"<MediaContainer{attrs(**values)} />")
    return document(f"<MediaContainer{attrs(**values)}>\n{inner}</MediaContainer>\n")


def tag_id(kind: str, name: str) -> int:
    """A stable id for a tag name, like Plex's per-tag ids."""
    return zlib.crc32(f"{kind}:{name.casefold()}".encode()) % 900_000 + 100_000


def _tags(movie: PlexMovie, full: bool) -> str:
    parts = []
    for kind, element in TAG_ELEMENTS.items():
        names = movie.tags.get(kind, [])
        if not full and kind in LISTING_TAG_LIMITS:
            names = names[: LISTING_TAG_LIMITS[kind]]
        for name in names:
            ident = tag_id(kind, name)
            parts.append(f"<{element}{attrs(id=ident, tag=name, filter=f'{kind}={ident}')} />\n")
    return "".join(parts)


def video(movie: PlexMovie, *, full: bool, section_id: str, section_title: str) -> str:
    """One ``<Video>``: listings carry truncated tags, the full item all tags and field locks."""
    rk = movie.rating_key
    date = movie.fields.get("originallyAvailableAt")
    fields = {name: movie.fields.get(name) for name in _MOVIE_ATTRS}
    thumb = f"/library/metadata/{rk}/thumb/{movie.updated_at}" if movie.poster_sha256 else None
    head = attrs(
        ratingKey=rk,
        key=f"/library/metadata/{rk}",
        guid=f"local://{rk}",
        type="movie",
        **fields,
        year=date[:4] if date else None,
        thumb=thumb,
        duration=movie.duration_ms,
        addedAt=movie.added_at,
        updatedAt=movie.updated_at,
        librarySectionID=section_id,
        librarySectionTitle=section_title,
        librarySectionKey=f"/library/sections/{section_id}",
    )
    container_ext = movie.file.rsplit(".", 1)[-1].lower() if "." in movie.file else "mp4"
    media = attrs(
        id=rk * 10,
        duration=movie.duration_ms,
        container=container_ext,
        videoCodec="h264",
        audioCodec="aac",
        width=1920,
        height=1080,
        videoResolution="1080",
    )
    part = attrs(
        id=rk * 100,
        key=f"/library/parts/{rk * 100}/file.{container_ext}",
        file=movie.file,
        size=movie.size,
        container=container_ext,
        duration=movie.duration_ms,
        accessible=1 if full else None,
        exists=1 if full else None,
    )
    body = f"<Media{media}>\n<Part{part} /></Media>\n" + _tags(movie, full)
    if full:
        body += "".join(
            f'<Field locked="1"{attrs(name=name)} />\n' for name in sorted(movie.locked)
        )
    return f"<Video{head}>\n{body}</Video>\n"


def section_directory(section_id: str, title: str, location: str, updated_at: int) -> str:
    head = attrs(
        allowSync=1,
        art="/:/resources/movie-fanart.jpg",
        filters=1,
        refreshing=0,
        thumb="/:/resources/movie.png",
        key=section_id,
        type="movie",
        title=title,
        agent="tv.plex.agents.movie",
        scanner="Plex Movie",
        language="en-US",
        uuid=SECTION_UUID,
        updatedAt=updated_at,
        createdAt=updated_at,
        scannedAt=updated_at,
        content=1,
        directory=1,
    )
    return f"<Directory{head}>\n<Location{attrs(id=1, path=location)} /></Directory>\n"


def filter_meta(section_id: str) -> str:
    """The ``includeMeta=1`` block plexapi reads to validate ``search(sort=..., filters=...)``."""
    fields = [
        ("title", "Title", "string"),
        ("studio", "Studio", "string"),
        ("summary", "Summary", "string"),
        ("addedAt", "Date Added", "date"),
        ("updatedAt", "Date Updated", "date"),
    ]
    sorts = [
        ("titleSort", "Title", "asc"),
        ("addedAt", "Date Added", "desc"),
        ("updatedAt", "Date Updated", "desc"),
    ]
    operators = {
        "string": [("=", "contains"), ("!=", "does not contain"), ("==", "is"),
                   ("!==", "is not"), ("<=", "begins with"), (">=", "ends with")],
        "date": [(">>=", "is after"), ("<<=", "is before")],
    }  # fmt: skip
    body = "".join(f"<Field{attrs(key=k, title=t, type=ty)} />" for k, t, ty in fields)
    body += "".join(
        f"<Sort{attrs(key=k, title=t, defaultDirection=d, descKey=f'{k}:desc')} />"
        for k, t, d in sorts
    )
    type_head = attrs(
        key=f"/library/sections/{section_id}/all?type=1", type="movie", title="Movies"
    )
    field_types = "".join(
        f"<FieldType{attrs(type=ft)}>"
        + "".join(f"<Operator{attrs(key=k, title=t)} />" for k, t in ops)
        + "</FieldType>"
        for ft, ops in operators.items()
    )
    return f'<Meta><Type{type_head} active="1">{body}</Type>{field_types}</Meta>\n'
