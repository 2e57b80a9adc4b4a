"""The engine's side of "Check library": when a check runs, one slice of it per tick, what it tells.

Owned by `SyncEngine` and used only on its thread. Jobs come first in a tick; the check gets a
short slice after them, so polls and jobs keep flowing while a big library is checked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

from engine.check.library import LibraryCheck, SceneSource, check_due
from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import SyncError
from engine.events import CheckProgress, SyncListener
from engine.plex.target import PlexTarget
from engine.store.activity import ActivityKind
from engine.store.checks import CheckStore, CheckSummary
from engine.store.jobs import JobStore, Pushed

logger = logging.getLogger(__name__)

CHECK_SLICE = 0.25  # seconds of check work per tick, after the jobs


class CheckRunner:
    def __init__(
        self,
        store: JobStore,
        clock: Clock,
        listener: SyncListener,
        *,
        scheduled: bool,
        on_fix: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_fix` runs before a Fix queues jobs: what the check found (items gone, re-added)
        means the pusher's index of Plex is out of date."""
        self.checks = CheckStore(store.path, clock=clock)
        self.check = LibraryCheck(self.checks, store, clock)
        self._clock = clock
        self._listener = listener
        self._scheduled = scheduled
        self._on_fix = on_fix
        self._retry_at = float("-inf")
        self._progress = self.check.progress()
        self._store = store
        last = self.checks.last_summary()
        self._noted_run = last.run_id if last else None  # the last check in "Recent activity"
        if scheduled and self.checks.last_summary() is None and not self.checks.schedule_anchor():
            self.checks.set_schedule_anchor(clock.now())  # the first check comes one interval on

    @property
    def progress(self) -> CheckProgress | None:
        return self._progress

    def request(self) -> int:
        """Check now (on demand); returns the run's id."""
        self._retry_at = float("-inf")
        run_id = self.check.start()
        self._publish()
        return run_id

    def cancel(self) -> None:
        self.check.cancel()
        self._publish()

    def fix(self, scene_ids: Iterable[str] | None) -> int:
        self._on_fix()
        return self.check.fix(scene_ids)

    def wanted(self, config: PlexSyncConfig, *, queue_idle: bool) -> bool:
        """A check is in flight, or a scheduled one is due and the queue has nothing ready."""
        if self._clock.monotonic() < self._retry_at:
            return False
        if self._progress is not None or self.check.running:
            return True
        if not (self._scheduled and queue_idle):
            return False
        return check_due(
            config, self.checks.last_summary(), self.checks.schedule_anchor(), self._clock.now()
        )

    def work(
        self,
        *,
        plex: PlexTarget,
        stash: SceneSource,
        config: PlexSyncConfig,
        on_failure: Callable[[SyncError], None],
    ) -> bool:
        """One slice; True while the check has more to do."""
        if not self.check.running:
            self.check.start()
        deadline = self._clock.monotonic() + CHECK_SLICE
        try:
            more = self.check.step(plex=plex, stash=stash, config=config, deadline=deadline)
        except SyncError as exc:
            self.check.reset_sources()
            self._retry_at = self._clock.monotonic() + config.poll_interval
            logger.info("Library check waits: %s", exc)
            on_failure(exc)
            more = False
        if not more:
            self._note_finished()
        self._publish()
        return more

    def _note_finished(self) -> None:
        """A check that just finished goes to "Recent activity" (once)."""
        summary = self.checks.last_summary()
        if summary is None or summary.run_id == self._noted_run:
            return
        self._noted_run = summary.run_id
        self._store.record_activity(
            ActivityKind.CHECK, title="Library check", summary=check_words(summary)
        )

    def reset_sources(self) -> None:
        """The engine's clients were closed (new settings): open sweeps start again."""
        self.check.reset_sources()

    # --- pushes ------------------------------------------------------------------------------

    def batch(self) -> AbstractContextManager[None]:
        """Several writes to the check's store in one transaction."""
        return self.checks.batch()

    def forced(self, scene_id: str) -> bool:
        return self.checks.is_forced(scene_id)

    @staticmethod
    def config_for(config: PlexSyncConfig, forced: bool) -> PlexSyncConfig:
        """A Fix overwrites preserved Plex edits too: the user chose to."""
        return config.model_copy(update={"preserve_plex_edits": False}) if forced else config

    def pushed(self, scene_id: str, record: Pushed, *, wrote: bool, finished: bool) -> None:
        """After a push: remember when we wrote (Plex's updatedAt is compared with it); a
        forced scene is forced once."""
        if wrote:
            rating_key = record.state.get("rating_key")
            if rating_key is not None:
                self.checks.note_written(scene_id, str(rating_key), self._clock.now())
        if wrote or finished:
            self.checks.unforce(scene_id)

    def close(self) -> None:
        self.checks.close()

    def _publish(self) -> None:
        progress = self.check.progress()
        if progress != self._progress:
            self._progress = progress
            self._listener.check_changed(progress)


def check_words(summary: CheckSummary) -> str:
    """ "2,000 scenes checked; 3 differ, 1 missing" (the counts by kind, none left out)."""
    found = [
        f"{count:,} {kind.replace('_', ' ')}" for kind, count in summary.counts.items() if count
    ]
    text = f"{summary.scenes:,} scene{'' if summary.scenes == 1 else 's'} checked"
    return f"{text}; {', '.join(found)}" if found else f"{text}; all in step"
