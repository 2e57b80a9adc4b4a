"""The Stash simulator's scenes: generated lazily from the seed, edits stored.

Scene ``k`` (id ``"k"``, 1-based) starts as ``catalog.scene_meta(seed, k)`` with the file
``<path_prefix>/<rel_path>`` (no file for about 2% of scenes), ``created_at`` and ``updated_at``
equal to ``catalog.base_timestamp(k)``. An edit stores the scene and gives it ``updated_at =
now`` in whole seconds, like Stash (``time.Now()`` in the scene update resolvers, stored as
RFC 3339 text, stashapp/stash pkg/sqlite/timestamp.go): edits in one second share a timestamp.
(Never older than the newest catalogue scene: the catalogue lies in the past.)

Timestamps are rendered as RFC 3339 text in the server's offset (``Z`` for UTC, like Go), and
filters compare that text, as Stash does in SQLite.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from pathlib import PurePosixPath
from typing import Any

from plexsync_sim.catalog import base_timestamp, join_prefix, scene_meta
from plexsync_sim.stash.objects import ObjectStore, StashObject, natural_key

EDITABLE = frozenset(
    {"title", "details", "date", "studio", "performers", "tags", "files", "code", "urls",
     "director", "rating100", "organized", "stash_ids", "groups"}
)  # fmt: skip
_CHURN_WORDS = ("Remastered", "Director's Cut", "Extended", "Édition spéciale", "特別版", "Redux")


@dataclass
class SceneRecord:
    """One scene's current state (object ids for studio, performers and tags, as Stash's join
    tables hold them; epoch seconds for times)."""

    id: int
    title: str | None
    code: str | None
    details: str | None
    director: str | None
    date: str | None
    urls: list[str]
    studio: int | None
    performers: list[int]
    tags: list[int]
    files: list[str]
    rating100: int | None
    organized: bool
    size: int
    duration: float
    created_at: int
    updated_at: int
    revision: int = 0
    # (endpoint, stash_id) pairs: the stash-box entries the scene was identified from
    stash_ids: list[tuple[str, str]] = field(default_factory=list)
    # (group id, scene_index) pairs: the groups the scene is in, and its place in each
    groups: list[tuple[int, int | None]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def format_time(epoch: int, tz: tzinfo | None) -> str:
    """RFC 3339 like Go's ``time.RFC3339``: seconds, ``Z`` for a zero offset."""
    moment = datetime.fromtimestamp(epoch, UTC)
    local = moment.astimezone(tz) if tz is not None else moment.astimezone()
    text = local.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class SceneStore:
    """Thread-safe scenes: catalogue scenes plus stored edits."""

    def __init__(
        self,
        *,
        seed: int,
        scenes: int,
        path_prefix: str,
        now: Callable[[], float],
        tz: tzinfo | None = None,
        scanned_only: bool = False,
    ) -> None:
        if scenes < 0:
            raise ValueError("scenes must be >= 0")
        self.seed = seed
        self.count = scenes
        self.scanned_only = scanned_only
        self.path_prefix = path_prefix
        self.tz = tz
        self._now = now
        self.lock = threading.RLock()
        self.objects = ObjectStore(now=now, tz=tz)
        self._edited: dict[int, SceneRecord] = {}
        self._deleted: set[int] = set()
        self._next_id = scenes + 1  # sceneCreate numbers on from the catalogue, like SQLite
        self._newest = base_timestamp(scenes) if scenes else 0
        self._churn_rng = random.Random(f"churn/{seed}")
        first, last = format_time(base_timestamp(1), tz), format_time(self._newest or 1, tz)
        # Base timestamps rise with the id; their text does too unless the offset changes (DST).
        self.monotonic_text = first[19:] == last[19:]

    def exists(self, scene_id: int) -> bool:
        if scene_id in self._edited:
            return True
        return 1 <= scene_id <= self.count and scene_id not in self._deleted

    def generate(self, scene_id: int) -> SceneRecord:
        meta = scene_meta(self.seed, scene_id)
        stamp = base_timestamp(scene_id)
        files = [join_prefix(self.path_prefix, meta.rel_path)] if meta.has_file else []
        if self.scanned_only:
            return _scanned(scene_id, files, meta.size, meta.duration, stamp)
        return SceneRecord(
            id=scene_id,
            title=meta.title,
            code=meta.code,
            details=meta.details,
            director=None,
            date=meta.date,
            urls=list(meta.urls),
            studio=self.objects.catalogue_id("studio", meta.studio) if meta.studio else None,
            performers=[self.objects.catalogue_id("performer", p) for p in meta.performers],
            tags=[self.objects.catalogue_id("tag", t) for t in meta.tags],
            files=files,
            rating100=meta.rating100,
            organized=meta.organized,
            size=meta.size,
            duration=meta.duration,
            created_at=stamp,
            updated_at=stamp,
        )

    def now(self) -> float:
        """The simulated Stash's clock (epoch seconds)."""
        return float(self._now())

    def get(self, scene_id: int) -> SceneRecord | None:
        """The scene (treat it as read-only), or None."""
        if scene_id in self._deleted:
            return None
        edited = self._edited.get(scene_id)
        if edited is not None:
            return edited
        return self.generate(scene_id) if self.exists(scene_id) else None

    def is_edited(self, scene_id: int) -> bool:
        return scene_id in self._edited

    def edited_ids(self) -> list[int]:
        """Scenes that differ from the catalogue: edited or deleted (`get` gives None)."""
        with self.lock:
            return [*self._edited, *self._deleted]

    def delete(self, scene_id: int) -> None:
        """``sceneDestroy``, or the source of a ``sceneMerge`` (its files go elsewhere)."""
        with self.lock:
            if self.get(scene_id) is None:
                raise KeyError(scene_id)
            self._edited.pop(scene_id, None)
            self._deleted.add(scene_id)

    def updated_text(self, scene_id: int) -> str:
        edited = self._edited.get(scene_id)
        stamp = edited.updated_at if edited else base_timestamp(scene_id)
        return format_time(stamp, self.tz)

    def created_text(self, scene_id: int) -> str:
        return format_time(base_timestamp(scene_id), self.tz)

    def update(self, scene_id: int, **changes: Any) -> SceneRecord:
        """Change fields (see ``EDITABLE``; studio, performers and tags by name) and bump
        ``updated_at``; KeyError if unknown."""
        return self._update(scene_id, self._to_ids(_normalise(changes)))

    def update_ids(self, scene_id: int, **changes: Any) -> SceneRecord:
        """Like ``update``, with studio, performers and tags given as object ids (as GraphQL
        mutations give them)."""
        return self._update(scene_id, changes)

    def _update(self, scene_id: int, changes: dict[str, Any]) -> SceneRecord:
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"cannot edit {sorted(unknown)}; editable: {sorted(EDITABLE)}")
        with self.lock:
            current = self.get(scene_id)
            if current is None:
                raise KeyError(scene_id)
            record = replace(current, **changes)
            record.updated_at = max(int(self._now()), self._newest)
            record.revision = current.revision + 1
            self._edited[scene_id] = record
            return record

    def create(self, **ids: Any) -> SceneRecord:
        """``sceneCreate``: a new scene with the next id and no file, created and updated now;
        ``ids`` as for ``update_ids``."""
        with self.lock:
            stamp = max(int(self._now()), self._newest)
            record = replace(_scanned(self._next_id, [], 0, 0.0, stamp), **ids)
            self._next_id += 1
            self._edited[record.id] = record
            return record

    def joined(self, record: SceneRecord, kind: str) -> list[StashObject]:
        """The live objects of ``kind`` the scene carries now (merges followed), in Stash's
        order: tags by name (``tagTableSort``, NATURAL_CI: pkg/sqlite/tables.go
        ``scenesTagsTableMgr``), performers as joined (their join table gives no order)."""
        if kind == "studio":
            ids = [record.studio] if record.studio is not None else []
        elif kind == "group":
            ids = [group_id for group_id, _index in record.groups]
        elif kind == "performer_tag":  # the tags of the scene's performers
            performers = self.objects.resolve("performer", record.performers)
            ids = list(dict.fromkeys(t for p in performers for t in p.tags))
            return self.objects.resolve("tag", ids)
        else:
            ids = record.tags if kind == "tag" else record.performers
        found = self.objects.resolve(kind, ids)
        return sorted(found, key=lambda o: natural_key(o.name)) if kind == "tag" else found

    def carries(self, record: SceneRecord, kind: str) -> list[int]:
        return [obj.id for obj in self.joined(record, kind)]

    def names(self, record: SceneRecord, kind: str) -> list[str]:
        """The current names of the scene's tags, performers or studio (0 or 1 name)."""
        return [obj.name for obj in self.joined(record, kind)]

    def _to_ids(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Names given for studio, performers and tags become the ids of objects so named."""
        result = dict(changes)
        if "studio" in result:
            name = result["studio"]
            result["studio"] = self.objects.ref("studio", name) if name else None
        for key, kind in (("performers", "performer"), ("tags", "tag")):
            if key in result:
                result[key] = list(dict.fromkeys(self.objects.ref(kind, n) for n in result[key]))
        if "groups" in result:  # (name, scene_index) pairs
            result["groups"] = [(self.objects.ref("group", n), i) for n, i in result["groups"]]
        return result

    def touch(self, scene_id: int, word: str) -> SceneRecord:
        """A small real edit (the title gains ``word`` or loses it again)."""
        with self.lock:
            current = self.get(scene_id)
            if current is None:
                raise KeyError(scene_id)
            title = current.title or "Untitled"
            suffix = f" ({word})"
            title = title[: -len(suffix)] if title.endswith(suffix) else title + suffix
            return self.update(scene_id, title=title)

    def churn(self, count: int) -> list[str]:
        """Edit ``count`` distinct random scenes (deterministic per seed); returns their ids."""
        with self.lock:
            count = max(0, min(count, self.count))
            chosen = self._churn_rng.sample(range(1, self.count + 1), count)
            for scene_id in chosen:
                current = self.get(scene_id)
                assert current is not None
                word = self._churn_rng.choice(_CHURN_WORDS)
                names = self.names(current, "tag")
                tags = [*names, word] if word not in names else names[1:]
                self.update(scene_id, title=f"{current.title or 'Untitled'} ({word})", tags=tags)
            return [str(scene_id) for scene_id in chosen]


def _scanned(
    scene_id: int, files: list[str], size: int, duration: float, stamp: int
) -> SceneRecord:
    """A scene as a scan (or ``sceneCreate`` without values) makes it: text fields empty,
    no date, studio, performers or tags (Stash stores "" for unset text: recorded answers)."""
    return SceneRecord(
        id=scene_id, title="", code="", details="", director="", date=None, urls=[],
        studio=None, performers=[], tags=[], files=files, rating100=None, organized=False,
        size=size, duration=duration, created_at=stamp, updated_at=stamp,
    )  # fmt: skip


def _normalise(changes: dict[str, Any]) -> dict[str, Any]:
    result = dict(changes)
    for key in ("performers", "tags", "files", "urls"):
        if key in result:
            values = result[key] or []
            if isinstance(values, str) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"{key} must be a list of strings")
            result[key] = list(values)
    for key in ("title", "details", "date", "studio", "code", "director"):
        if key in result and result[key] is not None and not isinstance(result[key], str):
            raise ValueError(f"{key} must be a string or null")
    return result


def basename(path: str) -> str:
    return PurePosixPath(path).name
