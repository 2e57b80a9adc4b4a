"""Renames and merges of tags, performers and studios reach the scenes that carry them.

Stash changes a renamed object's `updated_at`, not its scenes' (stashapp/stash
pkg/sqlite/tag.go), so the scene poll never sees a rename. Each kind is polled on its own
`updated_at` with the scene poll's keyset machinery (`KeysetPoller`); a name that differs from
the one remembered sends every scene that carries the object (`SceneFilterType.tags` etc.)
through the scene poll's own intake, which queues only what changed.

A merge or a delete destroys the object: `tagsMerge` moves its scene joins to the destination
without touching any `updated_at` but the performer merge's destination (pkg/sqlite/tag.go
`Merge`; internal/api/resolver_mutation_tag.go). Stash's count of a kind, read with every page,
then falls below ours; a sweep lists the kind's ids (one request) against the ids we know, and
the scenes whose Plex item (or queued job) shows a vanished name are read again. A create
racing a delete can hide the difference for a cycle; the next cycle reads the new object.

The fan-out is persisted work (`FanOut`), one request per step, so it is bounded per tick,
resumes after a restart and never holds the queue back; a task that keeps failing moves behind
the others and is given up after a few tries, never blocking the renames that follow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

from engine.clock import Clock
from engine.errors import ErrorClass, SyncError
from engine.plan.desired import clean_text
from engine.poll.scenes import KeysetPoller, PageResult
from engine.stash.objects import IDS_PER_REQUEST, ObjectPage
from engine.stash.scene import PAGE_SIZE, PageQuery, ScenePage
from engine.stash.source import StashSource
from engine.store.jobs import JobStore

logger = logging.getLogger(__name__)

FANOUT_KEY = "stash_fanout"
REREAD_ON_ANY_EDIT = ("studio",)  # scenes show more of a studio than its name: its parent
SWEEP_CHUNK = 5000  # known ids read from the store at a time during a sweep
MAX_ATTEMPTS = 5  # failures of one follow-up before it is given up
BACKOFF_BASE = 30.0  # seconds before a failed follow-up is tried again, doubling per failure
BACKOFF_CAP = 3600.0
# Stash unreachable, busy ("database is locked" while it scans, which can last an hour) or
# refusing the key: not the task's fault. It keeps its place and the poll reports the error.
STASH_DOWN = (ErrorClass.UNREACHABLE, ErrorClass.TRANSIENT, ErrorClass.AUTH)


class FanOut:
    """Persisted follow-up reads: scenes carrying changed objects, sweeps for vanished ones.

    A task that Stash refuses (a resolver error about the request, a rejected query) goes to
    the back with a backoff, so it never blocks the tasks behind it; after `MAX_ATTEMPTS` it is
    dropped and kept for the next library check to report. Stash unreachable, busy or refusing
    the API key fails every task alike: that error goes up to the poll, the task keeps its place.
    """

    def __init__(
        self,
        stash: StashSource,
        store: JobStore,
        take: Callable[[ScenePage], int],
        clock: Clock,
        *,
        page_size: int = PAGE_SIZE,
        through_performers: Callable[[], bool] = lambda: False,
    ) -> None:
        self._stash = stash
        self._store = store
        self._take = take
        # Performers' tags are synced as genres (`performer_tags_as_genres`): a tag's scenes
        # are also the scenes whose performers carry it.
        self._through_performers = through_performers
        self._clock = clock
        self._page_size = page_size
        saved = store.get_value(FANOUT_KEY)
        self._tasks: list[dict[str, Any]] = saved if isinstance(saved, list) else []

    @property
    def pending(self) -> bool:
        """A task is ready to run now (one waiting out its backoff is not)."""
        return self._ready() is not None

    def carrying(self, kind: str, ids: list[str]) -> None:
        """Read again every scene that carries one of these objects (for a tag, also the
        scenes whose performers carry it, when their tags are synced)."""
        kinds = (kind, "performer_tag") if kind == "tag" and self._through_performers() else (kind,)
        for each in kinds:
            for start in range(0, len(ids), IDS_PER_REQUEST):
                chunk = ids[start : start + IDS_PER_REQUEST]
                self._add({"op": "carrying", "kind": each, "ids": chunk, "after_id": 0})

    def sweep(self, kind: str) -> None:
        """Ask Stash which known objects of `kind` still exist (once at a time per kind)."""
        if not any(t["op"] == "sweep" and t["kind"] == kind for t in self._tasks):
            self._add({"op": "sweep", "kind": kind})

    def step(self) -> int:
        """One request of the first ready task; returns jobs added."""
        task = self._ready()
        if task is None:
            return 0
        try:
            return self._run(task)
        except SyncError as exc:
            if exc.error_class in STASH_DOWN:
                raise  # every task would fail alike: the poll says Stash is down
            self._failed(task, exc)
            return 0

    def _run(self, task: dict[str, Any]) -> int:
        op = task["op"]
        if op == "carrying":
            return self._carrying_step(task)
        if op == "sweep":
            self._sweep_step(task)
            return 0
        page = self._stash.scenes_by_id(list(task["ids"]))
        self._done(task)
        return self._take(page)

    def _ready(self) -> dict[str, Any] | None:
        now = self._clock.now()
        return next((t for t in self._tasks if float(t.get("not_before", 0)) <= now), None)

    def _failed(self, task: dict[str, Any], exc: SyncError) -> None:
        attempts = int(task.get("attempts", 0)) + 1
        what = describe_task(task)
        self._tasks.remove(task)
        if attempts >= MAX_ATTEMPTS:
            logger.warning(
                "Gave up on %s after %d failures (%s); the next library check reports it",
                what,
                attempts,
                exc,
            )
            self._store.record_dropped_follow_up(what, str(exc), self._clock.now())
            self._save()
            return
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempts - 1))
        logger.warning(
            "%s failed (%s); trying it again in %.0f s, after the others", what, exc, delay
        )
        task["attempts"], task["not_before"] = attempts, self._clock.now() + delay
        self._tasks.append(task)  # to the back: the tasks behind it go first
        self._save()

    def _carrying_step(self, task: dict[str, Any]) -> int:
        page = self._stash.scenes_carrying(
            task["kind"], list(task["ids"]), int(task["after_id"]), self._page_size
        )
        ids = [int(i) for i, _ in page.keys if i.isdigit()]
        added = self._take(page)
        if page.rows >= self._page_size and ids:
            task["after_id"] = max(ids)  # a keyset on id: no edit moves a scene past it
            self._save()
        else:
            self._done(task)
        return added

    def _sweep_step(self, task: dict[str, Any]) -> None:
        """One listing of the kind's ids, held against every id we know (no more requests)."""
        kind = task["kind"]
        present = self._stash.object_ids(kind)
        vanished: list[str] = []
        after = ""
        while known := self._store.known_object_ids(kind, after=after, limit=SWEEP_CHUNK):
            vanished.extend(i for i in known if i not in present)
            after = known[-1]
        self._done(task)
        if not vanished:
            return
        names = self._store.forget_objects(kind, vanished)
        logger.info("%d %s(s) were merged or deleted in Stash", len(vanished), kind)
        scenes: dict[str, None] = {}
        for name in names:
            scenes.update(dict.fromkeys(self._store.scenes_showing(kind, clean_text(name))))
        ids = list(scenes)
        for start in range(0, len(ids), self._page_size):
            self._add({"op": "scenes", "ids": ids[start : start + self._page_size]})

    def _add(self, task: dict[str, Any]) -> None:
        self._tasks.append(task)
        self._save()

    def _done(self, task: dict[str, Any]) -> None:
        self._tasks.remove(task)
        self._save()

    def _save(self) -> None:
        self._store.set_value(FANOUT_KEY, self._tasks)


def describe_task(task: dict[str, Any]) -> str:
    """A follow-up in words, for the log and the library check."""
    op, kind, count = task.get("op"), task.get("kind", "scene"), len(task.get("ids", ()))
    if op == "carrying":
        return f"reading the scenes of {count} renamed {kind}(s)"
    if op == "sweep":
        return f"checking which {kind}s were merged or deleted"
    return f"reading {count} scene(s) that showed a merged or deleted name"


class ObjectPoller(KeysetPoller):
    """Polls one kind (tag, performer, studio) by its `updated_at`; renames go to `FanOut`."""

    GROUP_BY_ID: ClassVar[bool] = False  # objects cannot be filtered by id: a second is read whole

    def __init__(
        self,
        kind: str,
        stash: StashSource,
        store: JobStore,
        clock: Clock,
        fan_out: FanOut,
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.kind = kind
        self._stash = stash
        self._fan_out = fan_out
        self._total: int | None = None
        super().__init__(store, clock, state_key=f"stash_objects_{kind}", page_size=page_size)

    def _fetch(self, query: PageQuery) -> ObjectPage:
        return self._stash.object_page(self.kind, query)

    def _take(self, page: ObjectPage) -> tuple[int, bool]:
        self._total = page.total
        known = self._store.known_objects(self.kind, (o.id for o in page.objects))
        # The first cycle only learns the names: the scene poll sends every scene anyway.
        learning = self._state.watermark is None
        renamed, fresh = [], []
        for obj in page.objects:
            before = known.get(obj.id)
            if before == (obj.name, obj.updated_at):
                continue
            fresh.append((obj.id, obj.name, obj.updated_at))
            if before is None or learning:
                continue
            if before[0] != obj.name:
                logger.info("Stash %s %s renamed; its scenes are read again", self.kind, obj.id)
                renamed.append(obj.id)
            elif self.kind in REREAD_ON_ANY_EDIT:
                # A studio's new parent (or a parent's own edit) shows only in `updated_at`,
                # and its scenes show the parent: read them again (only changes are queued).
                logger.info("Stash studio %s changed; its scenes are read again", obj.id)
                renamed.append(obj.id)
        if renamed:
            self._fan_out.carrying(self.kind, renamed)
        if fresh:
            self._store.remember_objects(self.kind, fresh)
        return 0, bool(fresh)

    def _known_count(self) -> int:
        return self._store.known_object_count(self.kind)

    def read_page(self) -> PageResult:
        result = super().read_page()
        total = self._total
        if result.finished and total is not None and total != self._known_count():
            self._fan_out.sweep(self.kind)
        return result
