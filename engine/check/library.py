""" "Check library": compare every Stash scene that has a file with what Plex shows, in steps.

One run: the section list, one paged sweep of each Plex section into the check's own index, one
paged sweep of Stash (the poller's scene model, `StashScene`), full-item reads only for items a
listing cannot settle, then the DLQ. Each step does a bounded piece (one page, a few reads) and
persists its progress, so the engine keeps syncing between steps and a killed run resumes: a
half-swept Plex section or Stash sweep restarts from its first page (findings are keyed by scene,
so repeating a page is harmless), finished sections and settled reads are kept.

A listing settles an item when its values prove it (scalars are complete in listings; a tag kind
is settled when every wanted tag is visible, or when the listing shows fewer tags of the kind
than Plex's cut, which holds the whole list), when Plex's `updatedAt` equals the one a full read
saw last time for the same desired state (`check_baseline`), or when the item has not changed
since our own write of that same state (`updatedAt` <= when the write returned, and not older
than that write: a restored database goes back in time). Collections are settled only by the
listing or a read: Plex edits them from the collection's side without moving `updatedAt`. The
check never writes to Plex; Fix queues normal jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from itertools import islice
from typing import Any, Protocol

from engine.check.classify import Classifier
from engine.check.drift import compare
from engine.clock import DAY, Clock
from engine.config.file import PlexSyncConfig
from engine.errors import NotFoundError, SyncError
from engine.events import CheckProgress
from engine.plan.matching import PathIndex
from engine.plex.model import PlexItem, PlexSection
from engine.plex.target import PlexTarget
from engine.stash.keyset import next_query
from engine.stash.scene import PageQuery, ScenePage
from engine.store.checks import Baseline, CheckKind, CheckStore, CheckSummary, Finding
from engine.store.jobs import JobStore

logger = logging.getLogger(__name__)

INTERVALS = {"daily": DAY, "weekly": 7 * DAY}
READS_PER_STEP = 25
PIECES_PER_STEP = 4  # pages or read batches per step, whatever the clock says
PHASES = ("plex", "stash", "reads", "dlq")
# Findings that Fix clears without queueing a rewrite of their scene.
NOTHING_TO_REWRITE = (CheckKind.DLQ_RESOLVED, CheckKind.FOLLOW_UP_DROPPED)
# Findings Fix queues as ordinary jobs, never forced: no item is surely the scene's. A possible
# match then lands in the DLQ with its candidate, for the user to confirm; nothing is written.
NOT_FORCED = (CheckKind.NOT_IN_PLEX, CheckKind.POSSIBLE_MATCH)


class SceneSource(Protocol):
    """What the check needs of Stash: the poller's keyset pages of scenes (`StashClient`)."""

    def scene_page(self, query: PageQuery) -> ScenePage: ...


def check_due(
    config: PlexSyncConfig, last: CheckSummary | None, anchor: float | None, now: float
) -> bool:
    """A scheduled check is due: one interval after the last check (or after the first start),
    which also covers an app that was off for longer than the interval."""
    interval = INTERVALS.get(config.library_check)
    since = last.finished_at if last is not None else anchor
    return interval is not None and since is not None and now - since >= interval


class LibraryCheck:
    """One check at a time; all of its state is in the `CheckStore`."""

    def __init__(self, checks: CheckStore, jobs: JobStore, clock: Clock) -> None:
        self._checks = checks
        self._jobs = jobs
        self._clock = clock
        self._classifier = Classifier(checks, jobs, PathIndex(checks, jobs), clock)
        self._index = PathIndex(checks)
        self._plex_pages: Iterator[list[PlexItem]] | None = None

    @property
    def running(self) -> bool:
        return self._checks.run_state() is not None

    def start(self) -> int:
        """Begin a run (or keep the one in flight); returns its id."""
        state = self._checks.run_state()
        if state is not None:
            return int(state["id"])
        last = self._checks.last_summary()
        run_id = (last.run_id if last else 0) + 1
        self.reset_sources()
        self._checks.start_run(
            {"id": run_id, "phase": "sections", "started_at": self._clock.now(), "section": 0}
        )
        logger.info("Library check %d started", run_id)
        return run_id

    def fix(self, scene_ids: Iterable[str] | None = None) -> int:
        """Queue the last check's findings (all, or these scenes') as normal jobs; returns how
        many scenes. Drifted, never-synced and orphaned scenes are forced: their next push
        rewrites every field, preserved ones too, since the user asked for it."""
        last = self._checks.last_summary()
        if last is None:
            return 0
        wanted = None if scene_ids is None else set(scene_ids)
        chosen = [
            f
            for f in self._checks.findings(run_id=last.run_id, limit=1_000_000)
            if wanted is None or f.scene_id in wanted
        ]
        dlq_ids = [f.dlq_id for f in chosen if f.dlq_id is not None]
        if dlq_ids:
            self._jobs.dlq_retry(dlq_ids)
        rewrite = {f.scene_id: f for f in chosen if f.kind not in NOTHING_TO_REWRITE}
        self._checks.force(s for s, f in rewrite.items() if f.kind not in NOT_FORCED)
        for scene_id, finding in rewrite.items():
            self._jobs.enqueue(scene_id, finding.payload, title=finding.title)
        fixed = {f.scene_id for f in chosen}
        self._checks.remove_findings(last.run_id, fixed)
        logger.info("Library check: %d scene(s) queued to fix", len(fixed))
        return len(fixed)

    def cancel(self) -> None:
        self.reset_sources()
        self._checks.abandon_run()

    def reset_sources(self) -> None:
        """Forget open sweeps (after an error or new settings): their phase starts again."""
        self._plex_pages = None

    def progress(self) -> CheckProgress | None:
        state = self._checks.run_state()
        if state is None:
            return None
        phase = str(state["phase"])
        done, total = int(state.get("items", 0)), None
        if phase == "stash":
            done = int(state.get("scenes", 0))  # rows read; the summary counts each scene once
        elif phase in ("reads", "dlq"):
            done = int(state.get("reads", 0))
            total = done + self._checks.suspects_left()
        return CheckProgress(phase, done, total, float(state["started_at"]))

    def step(
        self, *, plex: PlexTarget, stash: SceneSource, config: PlexSyncConfig, deadline: float
    ) -> bool:
        """Do one bounded piece (at least one request) and persist it; True while work is left.

        Plex and Stash errors propagate (a Stash one with `service="stash"`); the run stays
        where its last finished piece left it.
        """
        for _ in range(PIECES_PER_STEP):
            state = self._checks.run_state()
            if state is None:
                return False
            phase = state["phase"]
            if phase == "sections":
                sections = plex.movie_sections()
                state.update(phase="plex", sections=[[s.key, s.title] for s in sections])
                self._checks.save_run(state)
            elif phase == "plex":
                self._plex_step(state, plex)
            elif phase == "stash":
                self._stash_step(state, stash, config)
            elif phase == "reads":
                self._reads_step(state, plex, config, deadline)
            else:
                self._finish(state, config)
                return False
            if self._clock.monotonic() >= deadline:
                break
        return True

    # --- phases --------------------------------------------------------------------------------

    def _plex_step(self, state: dict[str, Any], plex: PlexTarget) -> None:
        sections = state["sections"]
        if state["section"] >= len(sections):
            state.update(phase="stash", scenes=0)
            self._checks.save_run(state)
            return
        if self._plex_pages is None:
            key, title = sections[state["section"]]
            self._plex_pages = pages(plex.sweep(PlexSection(key, title)))
        page = next(self._plex_pages, None)
        if page is None:
            self._plex_pages = None
            state["section"] += 1
        else:
            self._index.add_many(page)
            state["items"] = state.get("items", 0) + len(page)
        self._checks.save_run(state)

    def _stash_step(
        self, state: dict[str, Any], stash: SceneSource, config: PlexSyncConfig
    ) -> None:
        # Keyset pages by (updated_at, id), as the poller reads them: an edit mid-sweep moves a
        # scene to the end instead of shifting an offset, and the cursor resumes after a crash.
        query = PageQuery(**state.get("cursor", {}))
        try:
            page = stash.scene_page(query)
        except SyncError as exc:
            exc.service = "stash"  # a Stash problem must not count against Plex's breaker
            raise
        state["scenes"] = state.get("scenes", 0) + self._classifier.classify(
            state, list(page.scenes), config
        )
        following = next_query(query, page.rows, list(page.keys), by_id=True)
        if following is None:
            state.pop("cursor", None)
            state["phase"] = "reads"
        else:
            state["cursor"] = asdict(following)
        self._checks.save_run(state)

    def _reads_step(
        self, state: dict[str, Any], plex: PlexTarget, config: PlexSyncConfig, deadline: float
    ) -> None:
        batch = self._checks.next_suspects(READS_PER_STEP)
        if not batch:
            state["phase"] = "dlq"
            self._checks.save_run(state)
            return
        for scene_id, rating_key, section_key, key, payload in batch:
            try:
                item = plex.fetch_item(rating_key, section_key)
            except NotFoundError:
                self._checks.drop_suspect(scene_id)  # deleted since the sweep: next check
                continue
            result = compare(payload, item, config, previous=self._classifier.previous(scene_id))
            fields, kept = tuple(result.fields), tuple(result.kept)
            drift = Classifier.drift(scene_id, payload, rating_key, fields, kept)
            found = [drift] if fields or kept else []
            base = Baseline(item.updated_at, key, fields, kept)
            self._checks.settle_suspect(state["id"], scene_id, found, (rating_key, base))
            state["reads"] = state.get("reads", 0) + 1
            self._checks.save_run(state)
            if self._clock.monotonic() >= deadline:
                return

    def _finish(self, state: dict[str, Any], config: PlexSyncConfig) -> None:
        run_id = int(state["id"])
        self._checks.put_findings(run_id, self._classifier.dlq_findings(config))
        dropped = self._jobs.dropped_follow_ups()
        if dropped:
            self._checks.put_findings(run_id, [follow_ups_finding(dropped)])
            self._jobs.clear_dropped_follow_ups()
        summary = CheckSummary(
            run_id=run_id,
            started_at=float(state["started_at"]),
            finished_at=self._clock.now(),
            scenes=self._checks.scenes_seen(),
            counts=self._checks.counts(run_id),
            full_reads=int(state.get("reads", 0)),
        )
        self._checks.finish_run(summary)
        logger.info("Library check %d finished: %s", run_id, summary.counts)

    # --- classification ------------------------------------------------------------------------


def follow_ups_finding(dropped: list[dict[str, Any]]) -> Finding:
    """One finding for the rename and merge follow-ups given up since the last check."""
    detail = "; ".join(f"{d.get('what', '?')}: {d.get('error', '?')}" for d in dropped)
    return Finding(
        "",
        CheckKind.FOLLOW_UP_DROPPED,
        f"{len(dropped)} Stash rename or merge follow-up(s) given up",
        {},
        detail=detail[:2000],
    )


def pages(items: Iterable[PlexItem], size: int = 1000) -> Iterator[list[PlexItem]]:
    """One listing page at a time (the client asks Plex for 1,000 items per request)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
