"""The one adapter between the Qt-free engine and the GUI.

`EngineBridge` hands the engine a plain `SyncListener` whose hooks re-emit Qt signals, exposes the
engine's commands as slots, and hosts the engine on a worker thread: a QObject moved to a QThread
whose QTimer (created inside that thread) drives `engine.tick()`. The engine's wake callback makes
the next tick happen at once when the UI queues a command.

Signals carry the engine's immutable snapshots. The engine thread hands each event to the GUI
thread through one queued internal signal, and the public signals are emitted there, in order.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from engine.breaker import CircuitState
from engine.events import CheckProgress, EngineStatus, JobOutcome, Progress
from gui.presentation import with_engine_error

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 2.0
THREAD_END_WAIT_MS = 2000  # `finished` is sent just before the thread ends: it ends at once
MAX_TICK_INTERVAL_S = 30.0
ERROR_BACKOFF_S = 1.0
FAILING_TICKS = 3  # this many failed ticks in a row: the engine is broken, say so
ENGINE_THREAD_NAME = "engine"


class HostedEngine(Protocol):
    """What the bridge needs from `SyncEngine`: the commands plus the hosting hooks."""

    def sync_now(self) -> None: ...
    def retry_now(self) -> None: ...
    def reset_breaker(self) -> None: ...
    def pause(self, until: float | None) -> None: ...
    def resume(self) -> None: ...
    def apply_config(self, config: object) -> None: ...
    def dlq_retry(self, entry_ids: list[int] | None) -> None: ...
    def dlq_confirm(self, entry_id: int) -> None: ...
    def dlq_delete(self, entry_ids: list[int] | None) -> None: ...
    def check_now(self) -> None: ...
    def check_fix(self, scene_ids: list[str] | None) -> None: ...
    def network_changed(self) -> None: ...
    def status(self) -> EngineStatus: ...
    def tick(self, budget: float = 0.5) -> float: ...
    def add_wake_callback(self, callback: Callable[[], None]) -> None: ...
    def request_stop(self) -> None: ...


class _Relay:
    """The `SyncListener` given to the engine; each hook only emits a bridge signal.

    The engine publishes a status snapshot on every breaker transition as well as after each
    tick, so a HALF_OPEN that lasts only one probe still reaches the icon.
    """

    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge

    def _emit(self, name: str, *args: Any) -> None:
        try:
            self._bridge.engine_event.emit(name, args)
        except RuntimeError:  # the bridge was deleted while the engine was still talking
            logger.debug("Engine event %s after the bridge was deleted", name)

    def status_changed(self, status: EngineStatus) -> None:
        self._emit("status_changed", status)

    def breaker_changed(self, old: CircuitState, new: CircuitState) -> None:
        self._emit("breaker_changed", CircuitState(old).value, CircuitState(new).value)

    def job_finished(self, outcome: JobOutcome) -> None:
        self._emit("job_finished", outcome)

    def dead_lettered(self, outcomes: list[JobOutcome]) -> None:
        self._emit("dead_lettered", list(outcomes))

    def progress_changed(self, progress: Progress | None) -> None:
        self._emit("progress_changed", progress)

    def auth_failed(self, service: str, message: str) -> None:
        self._emit("auth_failed", service, message)

    def check_changed(self, progress: CheckProgress | None) -> None:
        self._emit("check_changed", progress)


class _EngineThread(QThread):
    """A QThread whose event loop runs inside a Python `run()`.

    With the C++ default `run()`, every slot call on the thread gets a fresh Python thread
    state, so `threading.local` data (the store's per-thread SQLite connection) is lost after
    each tick and a new connection is opened on the next one. Running `exec()` from Python keeps
    one thread state for the thread's whole life.
    """

    def run(self) -> None:
        self.exec()


class _EngineWorker(QObject):
    """Lives on the engine thread; its single-shot timer paces `engine.tick()`."""

    wake_requested = Signal()
    failing = Signal(str)  # ticks keep failing: what the last one raised
    recovered = Signal()  # a tick worked again after `failing`

    def __init__(self, engine: HostedEngine, budget: float) -> None:
        super().__init__()
        self._engine = engine
        self._budget = budget
        self._timer: QTimer | None = None
        self._failures = 0
        self.wake_requested.connect(self._on_wake)

    @Slot()
    def start_ticking(self) -> None:
        """Run on `QThread.started`, so the timer belongs to the engine thread."""
        threading.current_thread().name = ENGINE_THREAD_NAME  # for the log's threadName
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)
        self._timer.start(0)

    @Slot()
    def stop_ticking(self) -> None:
        """Run on `QThread.finished` (directly, on the engine thread) before it ends."""
        if self._timer is not None:
            self._timer.stop()

    @Slot()
    def _on_wake(self) -> None:
        if self._timer is not None and not QThread.currentThread().isInterruptionRequested():
            self._timer.start(0)

    @Slot()
    def _tick(self) -> None:
        thread = QThread.currentThread()
        if thread.isInterruptionRequested():
            return
        try:
            delay = float(self._engine.tick(self._budget))
        except Exception as exc:  # the engine must never take its thread down with it
            logger.exception("The sync engine failed during a tick")
            self._count_failure(exc)
            delay = ERROR_BACKOFF_S
        else:
            if self._failures >= FAILING_TICKS:
                self.recovered.emit()
            self._failures = 0
        if thread.isInterruptionRequested() or self._timer is None:
            return
        if not delay >= 0:  # also catches NaN
            delay = 0.0
        self._timer.start(round(min(delay, MAX_TICK_INTERVAL_S) * 1000))

    def _count_failure(self, exc: Exception) -> None:
        self._failures += 1
        if self._failures == FAILING_TICKS:
            self.failing.emit(describe_failure(exc))


def describe_failure(exc: BaseException) -> str:
    """Words for a failing tick. Only storage and OS errors are quoted: other messages may
    carry a URL with a token in it, and these words reach the tooltip."""
    if isinstance(exc, sqlite3.Error | OSError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


class EngineBridge(QObject):
    """Engine events as signals, engine commands as slots, and the engine's worker thread."""

    status_changed = Signal(object)  # EngineStatus
    breaker_changed = Signal(str, str)  # old, new CircuitState values
    job_finished = Signal(object)  # JobOutcome
    dead_lettered = Signal(object)  # list[JobOutcome]
    progress_changed = Signal(object)  # Progress | None
    auth_failed = Signal(str, str)  # service, message
    check_changed = Signal(object)  # CheckProgress | None (None: finished or stopped)
    stopped = Signal()
    # Emitted on the engine thread; queued to the GUI thread, where the public signal is emitted.
    # So every public signal fires on the GUI thread, whatever is connected to it.
    engine_event = Signal(str, object)  # name of the public signal, its arguments

    def __init__(self, parent: QObject | None = None, *, tick_budget: float = 0.5) -> None:
        super().__init__(parent)
        self.listener = _Relay(self)
        self._engine: HostedEngine | None = None
        self._status: EngineStatus | None = None
        self._budget = tick_budget
        self._thread: QThread | None = None
        self._worker: _EngineWorker | None = None
        self._stop_lock = threading.Lock()
        self._stopping = False
        self._tick_error: str | None = None  # ticks keep failing
        self._host_error: str | None = None  # no engine at all, or its thread ended
        self.engine_event.connect(self._on_engine_event, Qt.ConnectionType.QueuedConnection)
        # Connected first, so `status` is current when any other slot runs.
        self.status_changed.connect(self._remember_status)

    # --- life cycle -------------------------------------------------------------------------

    def attach(self, engine: HostedEngine) -> None:
        """Use `engine` (created with `self.listener`); reads its first snapshot."""
        self._engine = engine
        try:
            self._status = engine.status()
        except Exception:
            logger.exception("Could not read the engine's first status")

    @property
    def engine(self) -> HostedEngine | None:
        return self._engine

    def start(self) -> None:
        """Start the engine thread; ticks begin at once."""
        if self._engine is None:
            raise RuntimeError("attach() an engine before start()")
        if self._thread is not None:
            return
        thread = _EngineThread()
        thread.setObjectName(ENGINE_THREAD_NAME)
        worker = _EngineWorker(self._engine, self._budget)
        worker.moveToThread(thread)
        thread.started.connect(worker.start_ticking)
        # Direct: runs on the engine thread just before it ends, where the timer lives.
        thread.finished.connect(worker.stop_ticking, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(worker.deleteLater)
        thread.finished.connect(self._on_thread_finished)
        worker.failing.connect(self._on_worker_failing)
        worker.recovered.connect(self._on_worker_recovered)
        self._engine.add_wake_callback(self._wake)
        self._thread, self._worker = thread, worker
        thread.start()
        logger.info("Engine thread started")

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Stop in order: ask the engine to stop, interrupt, quit, wait. True if it ended."""
        with self._stop_lock:
            self._stopping = True
            thread = self._thread
            if thread is None:
                return True
            if self._engine is not None:
                try:
                    self._engine.request_stop()
                except Exception:
                    logger.exception("The engine failed to take the stop request")
            thread.requestInterruption()
            thread.quit()
            finished = thread.wait(max(0, round(timeout * 1000)))
            if finished:
                self._thread = None
                self._worker = None
                logger.info("Engine thread stopped")
                self.stopped.emit()
            else:
                logger.error("The engine thread did not stop within %.1f s", timeout)
            return finished

    def _wake(self) -> None:
        """The engine's wake callback: called on whichever thread queued a command."""
        worker = self._worker
        if worker is None:
            return
        try:
            worker.wake_requested.emit()
        except RuntimeError:  # the worker is gone: the thread has already stopped
            pass

    @Slot(str, object)
    def _on_engine_event(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "status_changed":
            args = (self._with_host_errors(args[0]),)
        getattr(self, name).emit(*args)

    @Slot(object)
    def _remember_status(self, status: EngineStatus) -> None:
        self._status = status

    @property
    def status(self) -> EngineStatus | None:
        """The last snapshot delivered (or read at attach time)."""
        return self._status

    # --- the host's own view of the engine's health ----------------------------------------

    def set_host_error(self, message: str | None) -> None:
        """The engine cannot run (e.g. its database did not open); shown until cleared."""
        self._host_error = message
        self._republish()

    @property
    def host_error(self) -> str | None:
        return self._host_error or self._tick_error

    def _with_host_errors(self, status: EngineStatus) -> EngineStatus:
        message = self.host_error
        if message is None or status.engine_error:
            return status  # the engine's own words win: they are more precise
        return with_engine_error(status, message)

    def _republish(self) -> None:
        """Show the engine's latest snapshot again, with the host's errors as they are now."""
        base = self._engine_status() or self._status
        if base is not None:
            self.status_changed.emit(self._with_host_errors(base))
        elif self.host_error is not None:
            self.status_changed.emit(with_engine_error(None, self.host_error))

    def _engine_status(self) -> EngineStatus | None:
        engine = self._engine
        if engine is None:
            return None
        try:
            return engine.status()
        except Exception:
            logger.exception("Could not read the engine's status")
            return None

    @Slot(str)
    def _on_worker_failing(self, reason: str) -> None:
        logger.error("The sync engine keeps failing (%d ticks in a row): %s", FAILING_TICKS, reason)
        self._tick_error = f"The sync engine fails on every try ({reason})."
        self._republish()

    @Slot()
    def _on_worker_recovered(self) -> None:
        logger.info("The sync engine works again")
        self._tick_error = None
        self._republish()

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._stopping:
            return
        logger.error("The engine thread ended unexpectedly")
        thread = self._thread
        # `finished` comes from the thread just before it ends, and Qt deletes the worker
        # (deleteLater) as it ends. Dropping our references before that deleted the same
        # objects from two threads at once (a segfault, 1 run in 9 of the GUI tier).
        if thread is None or thread.wait(THREAD_END_WAIT_MS):
            self._thread = self._worker = None
        self.set_host_error("The sync engine's thread ended unexpectedly.")

    # --- commands (safe from the GUI thread; the engine queues them) -----------------------

    def _command(self, name: str, *args: Any) -> None:
        engine = self._engine
        if engine is None:
            logger.warning("No engine to %s", name)
            return
        try:
            getattr(engine, name)(*args)
        except Exception:
            logger.exception("The engine rejected the command %s", name)

    @Slot()
    def sync_now(self) -> None:
        self._command("sync_now")

    @Slot()
    def network_changed(self) -> None:
        """The network changed: failures settle for a while, then the engine checks at once."""
        self._command("network_changed")

    @Slot()
    def retry_now(self) -> None:
        self._command("retry_now")

    @Slot()
    def reset_breaker(self) -> None:
        self._command("reset_breaker")

    def pause(self, until: float | None) -> None:
        """Pause until an epoch time, or until resume()/restart when None."""
        self._command("pause", until)

    @Slot()
    def resume(self) -> None:
        self._command("resume")

    def apply_config(self, config: object) -> None:
        self._command("apply_config", config)

    def dlq_retry(self, ids: list[int] | None) -> None:
        self._command("dlq_retry", None if ids is None else list(ids))

    def dlq_confirm(self, entry_id: int) -> None:
        self._command("dlq_confirm", int(entry_id))

    def dlq_delete(self, ids: list[int] | None) -> None:
        self._command("dlq_delete", None if ids is None else list(ids))

    @Slot()
    def check_now(self) -> None:
        self._command("check_now")

    def check_fix(self, scene_ids: list[str] | None) -> None:
        """Queue the last library check's findings (None = all) as sync jobs."""
        self._command("check_fix", None if scene_ids is None else list(scene_ids))
