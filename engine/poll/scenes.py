"""Finding Stash changes: a keyset poll over `updated_at` that no edit can slip past.

Stash pages by offset (`ORDER BY updated_at, title` with LIMIT/OFFSET, stashapp/stash
pkg/sqlite/scene.go setSceneSort), so an edit made between two page requests moves a scene to
the end and shifts every later row back by one: offset paging skips a row. So every request is
page 1 of "changed at or after the last timestamp read"; scenes sharing one timestamp are read by
id within it (`PageQuery`). A cycle reads from the watermark to the newest change, a page per
call, and the cursor is saved after each page, so an error, a stop or a restart resumes it.

Timestamps are Stash's own text (compared as text by Stash, `pkg/sqlite/sql.go`). A write that
took its `updated_at` a moment before a page was read can commit after it (and a second can
still gain scenes while it lasts), so once a cycle has read new changes, its last `SETTLE_SECONDS`
(plus the cycle's own duration) are read once more, `SETTLE_SECONDS` later. Every version read is
remembered (`PollStore`), so re-reads queue nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, Protocol

from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.plan.gates import gate_reason
from engine.stash.keyset import in_offset_of, next_query, offset_of, watermark_minus
from engine.stash.scene import (
    PAGE_SIZE,
    MalformedScene,
    PageQuery,
    ScenePage,
    StashScene,
)
from engine.stash.source import StashSource
from engine.store.activity import ActivityKind
from engine.store.jobs import JobStore, payload_hash

logger = logging.getLogger(__name__)

STATE_KEY = "stash_poll"
HELD_KEY = "gate_held:"  # + scene id: the gate reason Recent activity was told
LEGACY_WATERMARK_KEY = "stash_watermark"  # before the keyset poll: newest change read
LEGACY_OVERLAP_SECONDS = 3600.0  # what that version re-read; read once more after an upgrade
SETTLE_SECONDS = 10.0
PRUNE_SECONDS = 86_400.0  # read versions kept this far below the watermark (far past a settle)


class KeysetPage(Protocol):
    @property
    def rows(self) -> int: ...
    @property
    def keys(self) -> tuple[tuple[str, str], ...]: ...


@dataclass(frozen=True)
class PollState:
    """The poll's memory between pages, ticks and restarts (stored as JSON)."""

    watermark: str | None = None  # newest change of the last finished cycle
    settle_from: str | None = None  # re-read from here once `settle_at` (wall clock) passed
    settle_at: float | None = None
    active: bool = False  # a cycle is under way at `cursor`
    cursor: dict[str, Any] = field(default_factory=dict)  # PageQuery fields
    cycle_newest: str | None = None
    cycle_started: float = 0.0
    cycle_found: bool = False  # the cycle read a version not read before
    ties: int = 0  # scenes last seen at the newest timestamp read (page size or more: many)


@dataclass(frozen=True)
class PageResult:
    added: int  # jobs added or replaced
    finished: bool  # the cycle reached the newest change
    fresh: bool = False  # the page held a version not read before


class KeysetPoller(ABC):
    """The keyset cycle over `updated_at` (see the module docstring), for any kind of row.

    A subclass reads a page (`_fetch`) and takes what is new on it (`_take`). Rows that can be
    filtered by id are read by id within a timestamp a page holds; others (`GROUP_BY_ID`
    False) read such a timestamp whole in one request.
    """

    GROUP_BY_ID: ClassVar[bool] = True

    def __init__(self, store: JobStore, clock: Clock, *, state_key: str, page_size: int) -> None:
        self._store = store
        self._clock = clock
        self._state_key = state_key
        self._page_size = page_size
        self._state = self._load()

    @abstractmethod
    def _fetch(self, query: PageQuery) -> KeysetPage:
        """One page of rows as the query asks for them."""

    @abstractmethod
    def _take(self, page: Any) -> tuple[int, bool]:
        """Queue what is new on the page; returns (jobs added, any version not read before)."""

    def _quiet(self, watermark: str) -> None:  # noqa: B027 - a hook: most pollers keep nothing
        """Nothing waits to settle below `watermark`: memory of older versions may go."""

    def _legacy_state(self) -> PollState:
        return PollState()

    @property
    def in_cycle(self) -> bool:
        return self._state.active

    def start_cycle(self) -> None:
        """Begin reading from the watermark (or from a due settle point) to the newest change."""
        state, now = self._state, self._clock.now()
        # A few scenes at the watermark are re-read in the same one request, which catches an
        # edit made later in that same second; a second that holds pages of scenes is left to
        # the settle pass, or every poll would read those pages again.
        few = state.ties < self._page_size
        query = PageQuery(after=state.watermark, inclusive=few, size=self._page_size)
        settle_from = state.settle_from
        if settle_from is not None and state.settle_at is not None and now >= state.settle_at:
            query = PageQuery(after=settle_from, inclusive=True, size=self._page_size)
            settle_from = None
        self._save(
            replace(
                state,
                settle_from=settle_from,
                settle_at=state.settle_at if settle_from else None,
                active=True,
                cursor=asdict(query),
                cycle_newest=None,
                cycle_started=now,
                cycle_found=False,
            )
        )

    def read_page(self) -> PageResult:
        """Read the next page of the cycle under way; SyncErrors leave the cursor as it was."""
        if not self._state.active:
            self.start_cycle()
        query = PageQuery(**self._state.cursor)
        page = self._fetch(query)
        # The page's jobs and the position after it commit together: one transaction per page
        # instead of one per scene, and a crash between them cannot skip or repeat a page.
        before = self._state
        try:
            with self._store.batch():
                return self._take_and_advance(query, page)
        except BaseException:
            self._state = before  # the page may not be stored: it is read again
            raise

    def _take_and_advance(self, query: PageQuery, page: Any) -> PageResult:
        added, found = self._take(page)
        keys = list(page.keys)
        newest = self._state.cycle_newest
        for _, stamp in keys:
            if newest is None or _later(stamp, newest):
                newest = stamp
        state = self._after_offset_change(self._state, keys)
        ties = state.ties
        if query.group_after_id is not None:
            ties = self._page_size
        elif keys:
            ties = sum(1 for _, stamp in keys if stamp == keys[-1][1])
        state = replace(
            state,
            cycle_newest=newest,
            cycle_found=self._state.cycle_found or found,
            ties=ties,
        )
        following = next_query(query, page.rows, keys, by_id=self.GROUP_BY_ID)
        if following is None:
            self._save(self._finish(state))
            return PageResult(added, finished=True, fresh=found)
        self._save(replace(state, cursor=asdict(following)))
        return PageResult(added, finished=False, fresh=found)

    def _after_offset_change(self, state: PollState, keys: list[tuple[str, str]]) -> PollState:
        """Stash writes its local offset; after a DST fall-back its new times sort below the
        watermark as text. Seeing the new offset, re-read from the watermark written in it."""
        watermark = state.watermark
        if not watermark or not keys:
            return state
        offset = offset_of(watermark)
        moved = next((u for _, u in keys if offset_of(u) != offset and _later(u, watermark)), None)
        if moved is None:
            return state
        try:
            start = watermark_minus(in_offset_of(watermark, moved), SETTLE_SECONDS)
        except ValueError:
            return state
        logger.info("Stash's timestamps changed offset; reading from %s once more", start)
        return replace(
            state, watermark=in_offset_of(watermark, moved), settle_from=start, settle_at=0.0
        )

    def _finish(self, state: PollState) -> PollState:
        newest = state.cycle_newest
        watermark = state.watermark
        if newest is not None and (watermark is None or _later(newest, watermark)):
            watermark = newest
        settle_from, settle_at = state.settle_from, state.settle_at
        now = self._clock.now()
        if state.cycle_found and watermark is not None:
            window = SETTLE_SECONDS + max(0.0, now - state.cycle_started)
            start = _minus(watermark, window)
            if settle_from is None or start < settle_from:
                settle_from = start
            settle_at = now + SETTLE_SECONDS
        elif settle_from is None and watermark is not None:
            self._quiet(watermark)
        return replace(
            state,
            watermark=watermark,
            settle_from=settle_from,
            settle_at=settle_at,
            active=False,
            cursor={},
        )

    def _load(self) -> PollState:
        saved = self._store.get_value(self._state_key)
        if isinstance(saved, dict):
            try:
                state = PollState(**saved)
                PageQuery(**state.cursor)
                return state
            except TypeError:
                logger.warning("The stored Stash poll state is unreadable; reading every scene")
                return PollState()
        return self._legacy_state()

    def _save(self, state: PollState) -> None:
        self._state = state
        self._store.set_value(self._state_key, asdict(state))


class StashPoller(KeysetPoller):
    """Polls scenes and queues the changed ones."""

    def __init__(
        self,
        stash: StashSource,
        store: JobStore,
        clock: Clock,
        *,
        page_size: int = PAGE_SIZE,
        config: Callable[[], PlexSyncConfig] | None = None,
    ) -> None:
        self._stash = stash
        self._config = config  # for the gates (`engine.plan.gates`); None: no gates
        super().__init__(store, clock, state_key=STATE_KEY, page_size=page_size)

    @property
    def source(self) -> StashSource:
        return self._stash

    def _fetch(self, query: PageQuery) -> ScenePage:
        return self._stash.scene_page(query)

    def _quiet(self, watermark: str) -> None:
        # Nothing waits to settle: versions this old are not read again.
        self._store.prune_seen(_minus(watermark, PRUNE_SECONDS))

    def _legacy_state(self) -> PollState:
        legacy = self._store.get_value(LEGACY_WATERMARK_KEY)
        if isinstance(legacy, str) and legacy:
            # Upgrade: go on from the old watermark, and re-read its overlap once, as it did.
            return PollState(
                watermark=legacy, settle_from=_minus(legacy, LEGACY_OVERLAP_SECONDS), settle_at=0.0
            )
        return PollState()

    def take(self, page: ScenePage) -> int:
        """Queue the changed scenes of a page read by other means (an object's scenes)."""
        return self._take(page)[0]

    def _take(self, page: ScenePage) -> tuple[int, bool]:
        """Queue what is new on the page; returns (jobs added, any version not read before)."""
        known = self._store.seen_versions(scene_id for scene_id, _ in page.keys)
        fresh: list[tuple[str, str, str]] = []
        added = 0
        for scene in page.scenes:
            payload = scene.payload()
            digest = payload_hash(payload)
            if known.get(scene.id) != (scene.updated_at, digest):
                fresh.append((scene.id, scene.updated_at, digest))
                added += self._queue(scene, payload, digest)
        for bad in page.malformed:
            version = (bad.updated_at, payload_hash({"malformed": bad.message}))
            if not bad.id or not bad.updated_at:
                logger.warning("Stash sent a scene without a readable id or time: %s", bad.message)
            elif known.get(bad.id) != version:
                fresh.append((bad.id, *version))
                self._dead_letter(bad)
        if fresh:
            self._store.mark_seen(fresh)
        return added, bool(fresh)

    def _dead_letter(self, bad: MalformedScene) -> None:
        message = f"Stash sent a malformed scene: {bad.message}"
        logger.warning("Scene %s dead-lettered: %s", bad.id, message)
        self._store.dead_letter_scene(
            bad.id,
            title=bad.title,
            message=message + " (fix it in Stash: its next edit syncs it)",
            payload={"id": bad.id, "malformed": message},
        )

    def _queue(self, scene: StashScene, payload: dict[str, Any], digest: str) -> int:
        if not scene.files:
            logger.info("Scene %s skipped: it has no files, so nothing to match in Plex", scene.id)
            return 0
        pushed = self._store.pushed(scene.id)
        if self._held_by_gate(scene, payload, pushed is not None):
            return 0
        if pushed is None and not scene.has_metadata:
            # Just scanned, not identified yet: pushing now would wipe what Plex has with
            # empties. Its next edit in Stash changes updated_at, and then it is picked up.
            logger.info("Scene %s waits: no metadata in Stash yet (not identified)", scene.id)
            return 0
        unchanged = pushed is not None and pushed.payload_hash == digest
        if unchanged and self._store.get_job(scene.id) is None:
            return 0  # already in Plex exactly like this
        queued = self._store.enqueue(scene.id, payload, title=scene.title, digest=digest)
        return 1 if queued else 0

    def _held_by_gate(self, scene: StashScene, payload: dict[str, Any], synced: bool) -> bool:
        """A gate keeps the scene out: nothing is sent, and what we wrote stays in Plex. A
        synced scene that leaves a gate says so once in Recent activity."""
        config = self._config() if self._config is not None else None
        if config is None or not (config.sync_only_organized or config.sync_only_identified):
            return False
        key = f"{HELD_KEY}{scene.id}"
        reason = gate_reason(payload, config)
        said = self._store.get_value(key)
        if reason is None:
            if said is not None:
                self._store.set_value(key, None)  # through the gate again: synced as usual
            return False
        if synced and said != reason:
            self._store.set_value(key, reason)
            self._store.record_activity(
                ActivityKind.HELD,
                scene_id=scene.id,
                title=scene.title,
                summary=f"No longer synced: {reason} (what was written stays in Plex)",
            )
        logger.info("Scene %s not synced: %s", scene.id, reason)
        return True


def _minus(timestamp: str, seconds: float) -> str:
    try:
        return watermark_minus(timestamp, seconds)
    except ValueError:
        return ""  # unreadable: re-read from the start rather than miss anything


def _later(first: str, second: str) -> bool:
    """`first` is a later instant (text order, the same within one offset, when unreadable)."""
    try:
        return _instant(first) > _instant(second)
    except ValueError:
        return first > second


def _instant(timestamp: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    return parsed
