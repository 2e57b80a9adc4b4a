"""Reads the job store off the UI thread and hands snapshots back by signal.

One reader thread owns its own `JobStore` (so its own SQLite connection) for its whole life.
Requests are coalesced: while a read runs, any number of requests merge into the one next read, so
a burst of engine events costs at most two reads. The GUI only reads; changes go through the engine.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from engine.store.history import RunInterval
from engine.store.jobs import DeadLetter, JobStore, Outage, QueueCounts
from gui.timefmt import DAY, HOUR, local_midnight

logger = logging.getLogger(__name__)

DLQ_LIMIT = 5000  # newest entries shown; the total is shown next to them
OUTAGE_DAYS = 30


class Section(enum.Flag):
    """What to read; a request names the parts that may have changed."""

    COUNTS = enum.auto()
    DLQ = enum.auto()
    HISTORY = enum.auto()
    ALL = COUNTS | DLQ | HISTORY


@dataclass(frozen=True)
class CountsSnapshot:
    counts: QueueCounts
    synced_today: int
    last_sync_at: float | None


@dataclass(frozen=True)
class DlqSnapshot:
    entries: tuple[DeadLetter, ...]  # newest first, at most DLQ_LIMIT
    total: int


@dataclass(frozen=True)
class HistorySnapshot:
    now: float
    outages_since: float
    outages: tuple[Outage, ...]
    stash_outages: tuple[Outage, ...]
    runs: tuple[RunInterval, ...]  # when the app was running (the rest of the window is unknown)
    per_minute: tuple[tuple[float, int], ...]  # (minute start, scenes synced), last hour


@dataclass(frozen=True)
class StoreSnapshot:
    """The sections that were read; the others are None."""

    taken_at: float
    counts: CountsSnapshot | None = None
    dlq: DlqSnapshot | None = None
    history: HistorySnapshot | None = None


class StoreReads(Protocol):
    """The part of `JobStore` the window reads."""

    def counts(self) -> QueueCounts: ...
    def dlq_list(self, limit: int = ..., offset: int = ...) -> list[DeadLetter]: ...
    def dlq_count(self) -> int: ...
    def outages(self, since: float, service: str = ...) -> list[Outage]: ...
    def runs(self, since: float) -> list[RunInterval]: ...
    def synced_per_minute(self, since: float) -> list[tuple[float, int]]: ...
    def synced_since(self, since: float) -> int: ...
    def get_value(self, key: str) -> Any: ...
    def close(self) -> None: ...


def read_snapshot(store: StoreReads, sections: Section, now: float) -> StoreSnapshot:
    """Read the requested sections in one go (runs on the reader thread)."""
    counts = dlq = history = None
    if Section.COUNTS in sections:
        last = store.get_value("last_sync_at")
        counts = CountsSnapshot(
            counts=store.counts(),
            synced_today=store.synced_since(local_midnight(now)),
            last_sync_at=float(last) if isinstance(last, int | float) else None,
        )
    if Section.DLQ in sections:
        dlq = DlqSnapshot(tuple(store.dlq_list(DLQ_LIMIT, 0)), store.dlq_count())
    if Section.HISTORY in sections:
        since = now - OUTAGE_DAYS * DAY
        history = HistorySnapshot(
            now=now,
            outages_since=since,
            outages=tuple(store.outages(since)),
            stash_outages=tuple(store.outages(since, "stash")),
            runs=tuple(store.runs(since)),
            per_minute=tuple(store.synced_per_minute(now - HOUR)),
        )
    return StoreSnapshot(now, counts, dlq, history)


class _ReaderThread(QThread):
    """The worker: waits for requests, reads, emits. Signals reach the UI thread queued."""

    loaded = Signal(object)  # StoreSnapshot
    failed = Signal(str)

    def __init__(self, factory: Callable[[], StoreReads], clock: Callable[[], float]) -> None:
        super().__init__()
        self._factory = factory
        self._clock = clock
        self._cond = threading.Condition()
        self._pending = Section(0)
        self._stopping = False

    def request(self, sections: Section) -> None:
        with self._cond:
            self._pending |= sections
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self.wait()

    def _next(self) -> Section | None:
        with self._cond:
            while not self._pending and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            sections, self._pending = self._pending, Section(0)
            return sections

    def run(self) -> None:
        store: StoreReads | None = None
        try:
            while (sections := self._next()) is not None:
                try:
                    if store is None:
                        store = self._factory()
                    snapshot = read_snapshot(store, sections, self._clock())
                except Exception as exc:  # a locked or damaged database must not kill the thread
                    logger.warning("Reading the job store failed: %s", exc)
                    self.failed.emit(str(exc) or type(exc).__name__)
                    continue
                self.loaded.emit(snapshot)
        finally:
            if store is not None:
                store.close()


def _stop(thread: _ReaderThread) -> None:
    try:
        running = thread.isRunning()
    except RuntimeError:  # the C++ thread is gone already (interpreter exit): nothing to stop
        return
    if running:
        thread.stop()


class StoreReader(QObject):
    """Reads the store on demand, off the UI thread.

    `request(sections)` returns at once; `snapshot_ready(StoreSnapshot)` follows on the UI thread.
    `close()` stops the thread (also done when the application quits or this object is destroyed).
    """

    snapshot_ready = Signal(object)  # StoreSnapshot
    read_failed = Signal(str)

    def __init__(
        self,
        database: Path,
        *,
        store_factory: Callable[[], StoreReads] | None = None,
        clock: Callable[[], float] = time.time,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        # Never recover jobs from here: the running engine owns its claimed jobs.
        factory = store_factory or partial(JobStore, database, recover=False)
        self._thread = _ReaderThread(factory, clock)
        self._thread.loaded.connect(self.snapshot_ready)
        self._thread.failed.connect(self.read_failed)
        self._closed = False
        # Never leave a running QThread behind: stop it on quit and when this object goes away.
        self.destroyed.connect(partial(_stop, self._thread))
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    def request(self, sections: Section = Section.ALL) -> None:
        """Ask for a fresh read of `sections`; merged with any request not yet started."""
        if self._closed or not sections:
            return
        self._thread.request(sections)
        if not self._thread.isRunning():
            self._thread.start()

    def close(self) -> None:
        """Stop the reader thread and close its database connection (idempotent)."""
        self._closed = True
        _stop(self._thread)
