"""Stash's scenes as the engine sees them: a validated model, plain data, and page shapes.

Stash's schema says what each field is (`Scene.title: String`, `tags: [Tag!]!`, `updated_at:
Time!`; stashapp/stash graphql/schema/types/scene.graphql). An answer that breaks it is refused
here, per scene, with the field named, so a wrong type never becomes text in Plex.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from engine.errors import PermanentError

PAGE_SIZE = 500


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Named(_Strict):
    name: StrictStr


class _File(_Strict):
    path: StrictStr


class _Tag(_Named):
    parents: list[_Tag] | None = None  # as deep as the query asks (SCENE_FIELDS: two levels)


class _Performer(_Strict):
    name: StrictStr
    tags: list[_Named] | None = None


class _Studio(_Strict):
    name: StrictStr
    parent_studio: _Named | None = None


class _SceneGroup(_Strict):
    group: _Named
    scene_index: StrictInt | None = None


class _StashId(_Strict):
    stash_id: StrictStr


class _Paths(_Strict):
    screenshot: StrictStr | None = None


class SceneModel(_Strict):
    """The fields we select from Stash's `Scene`, with the types its schema promises."""

    id: StrictStr | StrictInt  # GraphQL serialises ID as a string; a number is still an id
    updated_at: StrictStr
    title: StrictStr | None = None
    code: StrictStr | None = None
    details: StrictStr | None = None
    director: StrictStr | None = None
    date: StrictStr | None = None
    rating100: StrictInt | None = None
    created_at: StrictStr | None = None
    organized: StrictBool | None = None
    urls: list[StrictStr] | None = None
    stash_ids: list[_StashId] | None = None
    groups: list[_SceneGroup] | None = None
    studio: _Studio | None = None
    performers: list[_Performer] | None = None
    tags: list[_Tag] | None = None
    files: list[_File] | None = None
    paths: _Paths | None = None

    @field_validator("updated_at")
    @classmethod
    def _rfc3339(cls, value: str) -> str:
        # The poll's cursor is this text: it must be a timestamp Stash can compare.
        dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return value


@dataclass(frozen=True)
class StashScene:
    """One scene as the engine queues it: plain data, JSON-serialisable via `payload()`."""

    id: str
    title: str
    details: str
    date: str
    studio: str
    performers: tuple[str, ...]
    tags: tuple[str, ...]
    files: tuple[str, ...]
    screenshot: str
    updated_at: str
    code: str = ""
    director: str = ""
    rating100: int | None = None  # 0-100; None: not rated
    created_at: str = ""
    organized: bool = False
    urls: tuple[str, ...] = ()
    stash_ids: tuple[str, ...] = ()
    parent_studio: str = ""  # the studio's parent studio (Stash's `parent_studio`)
    groups: tuple[str, ...] = ()  # the groups' names, in Stash's order
    performer_tags: tuple[str, ...] = ()  # the tags of the scene's performers
    # (tag, its parent and grandparent tags) for the tags that have parents
    tag_parents: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def has_metadata(self) -> bool:
        """More than a file: what identification or a user adds (the title alone is not enough,
        a scan sets it from the file name)."""
        return bool(
            self.studio
            or self.performers
            or self.tags
            or self.details
            or self.date
            or self.code
            or self.director
            or self.rating100 is not None
        )

    def payload(self) -> dict[str, Any]:
        """The scene's metadata; `updated_at` is left out so a touch without edits is a no-op."""
        return {
            "id": self.id,
            "title": self.title,
            "details": self.details,
            "date": self.date,
            "studio": self.studio,
            "performers": list(self.performers),
            "tags": list(self.tags),
            "files": list(self.files),
            "screenshot": self.screenshot,
            "code": self.code,
            "director": self.director,
            "rating100": self.rating100,
            "created_at": self.created_at,
            "organized": self.organized,
            "urls": list(self.urls),
            "stash_ids": list(self.stash_ids),
            "parent_studio": self.parent_studio,
            "groups": list(self.groups),
            "performer_tags": list(self.performer_tags),
            "tag_parents": {tag: list(above) for tag, above in self.tag_parents},
        }


@dataclass(frozen=True)
class Screenshot:
    """A scene's cover as Stash served it: raster bytes (b"" for its placeholder) and Stash's
    clock at that moment (the answer's Date header, epoch seconds), when it sent one."""

    data: bytes
    served_at: int | None = None


def screenshot_stamp(url: str) -> int | None:
    """The scene's `updated_at` (epoch seconds) a screenshot URL carries, or None.

    Real Stash sends `?t=<epoch>` (stashapp/stash `internal/api/urlbuilders/scene.go`
    `GetScreenshotURL`, commit cf3489e, and the recorded answers in tests/conformance); older
    builds appended the bare epoch, which is accepted too.
    """
    query = url.partition("?")[2]
    value = query[2:] if query.startswith("t=") else query
    return int(value) if value.isdigit() else None


@dataclass(frozen=True)
class MalformedScene:
    """A scene Stash sent that breaks its schema: it fails on its own, the page goes on."""

    id: str
    title: str
    updated_at: str
    message: str


@dataclass(frozen=True)
class PageQuery:
    """One request of a keyset poll (always page 1: offsets shift when scenes are edited).

    `after` None reads from the start. `group_after_id` reads only scenes whose `updated_at`
    equals `after`, by id above it: Stash's own tie-break is the title, which cannot be a key.
    """

    after: str | None = None
    inclusive: bool = False  # updated_at >= after instead of >
    group_after_id: int | None = None
    size: int = PAGE_SIZE


@dataclass(frozen=True)
class ScenePage:
    scenes: tuple[StashScene, ...]
    malformed: tuple[MalformedScene, ...]
    rows: int  # rows Stash returned, malformed ones included
    keys: tuple[tuple[str, str], ...]  # (id, updated_at) of each readable row, in Stash's order


def _names(items: Sequence[_Named] | None) -> tuple[str, ...]:
    return tuple(name for name in (i.name.strip() for i in items or []) if name)


def parse_scene(raw: Any) -> StashScene:
    """Validate one scene from Stash's answer; a malformed one raises PermanentError."""
    try:
        model = SceneModel.model_validate(raw)
    except ValidationError as exc:
        raise PermanentError("Stash sent a malformed scene", _describe(exc)) from exc
    if not str(model.id).strip():
        raise PermanentError("Stash sent a malformed scene", "field 'id': empty")
    return StashScene(
        id=str(model.id),
        title=(model.title or "").strip(),
        details=model.details or "",
        date=model.date or "",
        studio=(model.studio.name.strip() if model.studio else ""),
        performers=tuple(n for n in (p.name.strip() for p in model.performers or []) if n),
        tags=_names(model.tags),
        files=tuple(f.path for f in model.files or [] if f.path),
        screenshot=(model.paths.screenshot or "") if model.paths else "",
        updated_at=model.updated_at,
        code=(model.code or "").strip(),
        director=(model.director or "").strip(),
        rating100=_rating(model.rating100),
        created_at=model.created_at or "",
        organized=bool(model.organized),
        urls=tuple(url for url in model.urls or [] if url.strip()),
        stash_ids=tuple(s.stash_id for s in model.stash_ids or [] if s.stash_id.strip()),
        parent_studio=_parent_name(model.studio),
        groups=tuple(name for name in (g.group.name.strip() for g in model.groups or []) if name),
        performer_tags=tuple(
            dict.fromkeys(n for p in model.performers or [] for n in _names(p.tags))
        ),
        tag_parents=tuple(
            (tag.name.strip(), above) for tag in model.tags or [] if (above := _above(tag))
        ),
    )


def _above(tag: _Tag) -> tuple[str, ...]:
    """The names of a tag's parents and theirs, as far as the answer goes (nearest first)."""
    names: list[str] = []
    level = list(tag.parents or [])
    while level:
        names.extend(p.name.strip() for p in level if p.name.strip())
        level = [g for p in level for g in p.parents or []]
    return tuple(dict.fromkeys(names))


def _parent_name(studio: _Studio | None) -> str:
    parent = studio.parent_studio if studio is not None else None
    return parent.name.strip() if parent is not None else ""


def _rating(value: int | None) -> int | None:
    """Stash's rating100 (0-100, `scene.graphql` `rating100: Int`); out of range is no rating."""
    return value if value is not None and 0 <= value <= 100 else None


def malformed(raw: Any, error: PermanentError) -> MalformedScene:
    """What can be told about a scene that failed validation (its id and time, if readable)."""
    fields = raw if isinstance(raw, dict) else {}

    def text(key: str) -> str:
        value = fields.get(key)
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""

    return MalformedScene(text("id"), text("title")[:200], text("updated_at"), error.message)


def _describe(exc: ValidationError) -> str:
    parts = []
    for problem in exc.errors()[:3]:
        where = ".".join(str(p) for p in problem["loc"]) or "scene"
        parts.append(f"field '{where}': {problem['msg']}")
    return "; ".join(parts)
