"""Test doubles for the status window tests: a bridge that acts on a real store, and seed data."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from tray_fakes import make_status

from engine.events import EngineStatus
from engine.store.jobs import JobStore

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from gui.status_window import StatusWindow

NOW = 1_790_000_000.0  # a fixed "now" (2026-09-21, UTC)


class Clock:
    """A settable clock for `JobStore` (now/monotonic) and the widgets (callable)."""

    def __init__(self, now: float = NOW) -> None:
        self.t = now

    def __call__(self) -> float:
        return self.t

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class FakeBridge(QObject):
    """The signals and commands of `gui.bridge.EngineBridge`, with a tiny engine behind them.

    DLQ commands are carried out at once on the given store (as the engine would at its next
    tick), and then a status with the new counts is emitted.
    """

    status_changed = Signal(object)
    breaker_changed = Signal(str, str)
    job_finished = Signal(object)
    dead_lettered = Signal(object)
    progress_changed = Signal(object)
    auth_failed = Signal(str, str)
    check_changed = Signal(object)

    def __init__(self, store: JobStore | None = None, status: EngineStatus | None = None) -> None:
        super().__init__()
        self.store = store
        self._status = status
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    @property
    def status(self) -> EngineStatus | None:
        return self._status

    def emit_status(self, status: EngineStatus) -> None:
        self._status = status
        self.status_changed.emit(status)

    def emit_store_status(self, **changes: Any) -> EngineStatus:
        """Emit a status whose counts are read from the store."""
        assert self.store is not None
        counts = self.store.counts()
        base = self._status or make_status()
        status = dataclasses.replace(
            base,
            pending=counts.pending,
            in_progress=counts.in_progress,
            waiting=counts.waiting,
            dlq=counts.dlq,
            **changes,
        )
        self.emit_status(status)
        return status

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def sync_now(self) -> None:
        self._record("sync_now")

    def retry_now(self) -> None:
        self._record("retry_now")

    def reset_breaker(self) -> None:
        self._record("reset_breaker")

    def pause(self, until: float | None) -> None:
        self._record("pause", until)

    def resume(self) -> None:
        self._record("resume")

    def apply_config(self, cfg: object) -> None:
        self._record("apply_config", cfg)

    def dlq_retry(self, ids: list[int] | None) -> None:
        self._record("dlq_retry", ids)
        if self.store is not None:
            self.store.dlq_retry(ids)
            self.emit_store_status()

    def dlq_confirm(self, entry_id: int) -> None:
        self._record("dlq_confirm", entry_id)

    def dlq_delete(self, ids: list[int] | None) -> None:
        self._record("dlq_delete", ids)
        if self.store is not None:
            self.store.dlq_delete(ids)
            self.emit_store_status()

    def check_now(self) -> None:
        self._record("check_now")

    def check_fix(self, scene_ids: list[str] | None) -> None:
        self._record("check_fix", scene_ids)

    def network_changed(self) -> None:
        self._record("network_changed")

    def command_names(self) -> list[str]:
        return [name for name, _ in self.calls]


def open_store(path: Path, clock: Clock) -> JobStore:
    return JobStore(path, clock=clock)


def seed_dlq(store: JobStore, clock: Clock, count: int, *, start: int = 1) -> list[int]:
    """Dead-letter `count` scenes (one minute apart) through the store's own write path."""
    ids = []
    for n in range(start, start + count):
        scene_id = f"scene-{n:03d}"
        payload = {"id": scene_id, "title": f"Title {n}", "tags": ["a", f"t{n}"], "rating": n % 5}
        store.enqueue(scene_id, payload, title=f"Title {n}")
        (job,) = store.dequeue(1)
        error = "PermanentError" if n % 2 else "ValidationError"
        ids.append(
            store.dead_letter(
                job,
                error_class=error,
                message=f"Plex said 400 for scene {n}\nTraceback line 1\nline 2",
                attempts=n % 4 + 1,
            )
        )
        clock.advance(60)
    return ids


def seed_history(store: JobStore, clock: Clock) -> None:
    """Two closed Plex outages and one open, a Stash outage, a month of running, and an hour of
    throughput ending now."""
    now = clock.t
    run = store.run_started(now - 31 * 86400)
    store.run_heartbeat(run, now)
    store.outage_started(now - 7 * 86400, "stash")
    store.outage_ended(now - 7 * 86400 + 1200, "stash")  # twenty minutes
    store.outage_started(now - 10 * 86400)
    store.outage_ended(now - 10 * 86400 + 3600)  # one hour
    store.outage_started(now - 3 * 86400)
    store.outage_ended(now - 3 * 86400 + 600)  # ten minutes
    store.outage_started(now - 300)  # ongoing for five minutes
    saved = clock.t
    for minutes_ago in range(0, 60, 3):
        clock.t = now - minutes_ago * 60
        store.record_outcome(synced=minutes_ago % 7 + 1)
    clock.t = saved


def build_window(
    qtbot: QtBot, bridge: FakeBridge, database: Path, clock: Clock, **kwargs: Any
) -> StatusWindow:
    """A StatusWindow registered with qtbot; its reader thread is stopped at teardown."""
    from gui.status_window import StatusWindow

    window = StatusWindow(bridge, database, clock=clock, **kwargs)
    qtbot.addWidget(window, before_close_func=lambda w: w.shutdown())
    return window


def show_and_wait(qtbot: QtBot, window: StatusWindow) -> None:
    """Show the window and wait for its first store read to arrive."""
    with qtbot.waitSignal(window.reader.snapshot_ready, timeout=5000):
        window.show_and_raise()
