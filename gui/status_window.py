"""The status window: what is wrong, and the buttons to fix it without a terminal.

Header (state, countdown, Retry now / Reset circuit breaker / Resume, sign-in banner), live
counters, the progress of a large sync, the dead-letter queue, and the outage and throughput
history. Live values come from the bridge's signals; the rest is read from the store on the reader
thread when a signal says it changed, and only while the window is shown. Commands (retry, reset,
DLQ retry/delete) go to the engine through the bridge: the engine owns the queue.

Closing the window only hides it; the app stays in the tray.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QSize, Qt, QTimer, Signal, SignalInstance, Slot
from PySide6.QtGui import QCloseEvent, QHideEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from engine.events import EngineStatus, JobOutcome, Progress
from gui.presentation import APP_TITLE
from gui.store_reader import OUTAGE_DAYS, Section, StoreReader, StoreSnapshot
from gui.widgets.activity_panel import add_activity_tab
from gui.widgets.counters import CounterPanel, Counters, SyncProgress
from gui.widgets.dlq_panel import DlqPanel
from gui.widgets.library_check_panel import CheckReader, LibraryCheckPanel
from gui.widgets.outage_timeline import SERVICES, OutageTimeline, stats_text
from gui.widgets.state_header import StateHeader
from gui.widgets.throughput_chart import ThroughputChart
from gui.window_fit import add_close_keys, resize_to_fit

logger = logging.getLogger(__name__)

TICK_MS = 10_000  # relative times and the throughput window move on even without events
COMMAND_FOLLOW_UP_MS = 1500  # re-read the DLQ once the engine has had time to act
DEFAULT_SIZE = QSize(900, 640)


class StatusBridge(Protocol):
    """What the window needs from `gui.bridge.EngineBridge` (a fake in tests)."""

    status_changed: SignalInstance
    breaker_changed: SignalInstance
    job_finished: SignalInstance
    dead_lettered: SignalInstance
    progress_changed: SignalInstance
    auth_failed: SignalInstance
    check_changed: SignalInstance

    @property
    def status(self) -> EngineStatus | None: ...
    def sync_now(self) -> None: ...
    def retry_now(self) -> None: ...
    def reset_breaker(self) -> None: ...
    def resume(self) -> None: ...
    def dlq_retry(self, ids: list[int] | None) -> None: ...
    def dlq_confirm(self, entry_id: int) -> None: ...
    def dlq_delete(self, ids: list[int] | None) -> None: ...
    def check_now(self) -> None: ...
    def check_fix(self, scene_ids: list[str] | None) -> None: ...


class StatusWindow(QMainWindow):
    """Shows the engine's state, queue, DLQ and history; `settings_requested` asks for Settings."""

    settings_requested = Signal()

    def __init__(
        self,
        bridge: StatusBridge,
        database: Path,
        parent: QWidget | None = None,
        *,
        reader: StoreReader | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        # Ends in the display name, so platforms that append it (Qt's formatWindowTitle skips a
        # title that already ends with it) do not name the app twice.
        self.setWindowTitle(self.tr("Status – %1").replace("%1", APP_TITLE))
        self.setObjectName("statusWindow")
        # Closing hides the window; it must never count as "the last window" and quit the app.
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        self.bridge = bridge
        self._clock = clock
        self._status: EngineStatus | None = None
        self._stale = Section(0)  # what changed while hidden
        self._history_dirty = False
        self._history_minute: int | None = None
        self._shown_once = False
        self.reader = reader or StoreReader(database, clock=clock, parent=self)
        self.check_reader = CheckReader(database, parent=self)
        self._build_widgets()
        self._build_layout()
        self.activity = add_activity_tab(self, self.tabs, bridge, database)
        self._connect()
        self._tick = QTimer(self, interval=TICK_MS)
        self._tick.timeout.connect(self._on_tick)
        self._follow_up = QTimer(self, interval=COMMAND_FOLLOW_UP_MS, singleShot=True)
        self._follow_up.timeout.connect(self._on_follow_up)
        resize_to_fit(self, DEFAULT_SIZE)
        add_close_keys(self)
        status = getattr(bridge, "status", None)
        if isinstance(status, EngineStatus):
            self.on_bridge_status_changed(status)

    def _build_widgets(self) -> None:
        self.header = StateHeader(clock=self._clock)
        self.counters = CounterPanel(clock=self._clock)
        self.progress = SyncProgress()
        self.dlq = DlqPanel()
        self.library_check = LibraryCheckPanel()
        self.timeline = OutageTimeline()
        self.outage_summary = QLabel(wordWrap=True)
        self.outage_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.throughput = ThroughputChart()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)

    def _build_layout(self) -> None:
        history = QWidget()
        history_layout = QVBoxLayout(history)
        history_layout.addWidget(self.timeline, 1)
        history_layout.addWidget(self.outage_summary)
        history_layout.addWidget(self.throughput, 1)
        self.tabs.addTab(self.dlq, self.tr("&Failed scenes"))
        self.tabs.addTab(history, self.tr("&History"))
        self.tabs.addTab(self.library_check, self.tr("&Library check"))
        self.tabs.setTabToolTip(
            0, self.tr("Scenes that failed after every retry (the dead-letter queue)")
        )
        self.tabs.setAccessibleName(self.tr("Status sections"))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.header)
        layout.addWidget(self.counters)
        layout.addWidget(self.progress)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        # Created now, so the first message does not push the tabs up (no layout jump).
        self.statusBar().setSizeGripEnabled(True)
        self._set_dlq_count(0)

    def _connect(self) -> None:
        bridge = self.bridge
        bridge.status_changed.connect(self.on_bridge_status_changed)
        bridge.progress_changed.connect(self.on_bridge_progress_changed)
        bridge.dead_lettered.connect(self.on_bridge_dead_lettered)
        bridge.breaker_changed.connect(self.on_bridge_breaker_changed)
        bridge.job_finished.connect(self.on_bridge_job_finished)
        bridge.auth_failed.connect(self.on_bridge_auth_failed)
        self.header.retry_requested.connect(bridge.retry_now)
        self.header.reset_requested.connect(bridge.reset_breaker)
        self.header.resume_requested.connect(bridge.resume)
        self.header.sync_requested.connect(bridge.sync_now)
        self.header.settings_requested.connect(self.settings_requested)
        self.dlq.retry_requested.connect(self.on_dlq_retry_requested)
        self.dlq.confirm_requested.connect(self.bridge.dlq_confirm)
        self.dlq.delete_requested.connect(self.on_dlq_delete_requested)
        self.dlq.message.connect(self._show_message)
        bridge.check_changed.connect(self.on_bridge_check_changed)
        self.library_check.check_requested.connect(bridge.check_now)
        self.library_check.fix_requested.connect(self.on_check_fix_requested)
        self.check_reader.result_ready.connect(self.library_check.set_result)
        self.check_reader.read_failed.connect(self._show_message)
        self.reader.snapshot_ready.connect(self.on_reader_snapshot_ready)
        self.reader.read_failed.connect(self.on_reader_read_failed)

    # --- public API ----------------------------------------------------------------------------

    def show_and_raise(self) -> None:
        """Show the window in front (tray click, menu, second launch)."""
        if self.isMinimized():
            self.showNormal()
        else:
            self.show()
        self.raise_()
        self.activateWindow()

    def show_dlq(self) -> None:
        """Show the window on the dead-letter queue tab (menu entry, notification click)."""
        self.tabs.setCurrentWidget(self.dlq)
        self.show_and_raise()

    def show_activity(self) -> None:
        """Show the window on the Recent activity tab."""
        self.tabs.setCurrentWidget(self.activity)
        self.show_and_raise()

    def show_library_check(self) -> None:
        """Show the window on the library check tab."""
        self.tabs.setCurrentWidget(self.library_check)
        self.show_and_raise()

    def refresh(self) -> None:
        """Re-read everything from the store (off the UI thread)."""
        self._refresh(Section.ALL)

    def shutdown(self) -> None:
        """Stop the reader thread; call once at quit (also done on `aboutToQuit`)."""
        self._tick.stop()
        self._follow_up.stop()
        self.reader.close()
        self.check_reader.close()
        self.activity.close_reader()

    # --- bridge signals ------------------------------------------------------------------------

    @Slot(object)
    def on_bridge_status_changed(self, status: EngineStatus) -> None:
        previous, self._status = self._status, status
        self.header.set_status(status)
        self.counters.set_counters(Counters.from_status(status))
        self.progress.set_progress(status.progress)
        self.library_check.set_progress(status.check)
        sections = Section(0)
        if previous is None or previous.dlq != status.dlq:
            sections |= Section.DLQ
        if previous is None or previous.breaker_state != status.breaker_state:
            sections |= Section.HISTORY
        self._refresh(sections)

    @Slot(object)
    def on_bridge_progress_changed(self, progress: Progress | None) -> None:
        self.progress.set_progress(progress)

    @Slot(object)
    def on_bridge_dead_lettered(self, outcomes: list[JobOutcome]) -> None:
        self._refresh(Section.DLQ)

    @Slot(str, str)
    def on_bridge_breaker_changed(self, old: str, new: str) -> None:
        self._refresh(Section.HISTORY)

    @Slot(object)
    def on_bridge_job_finished(self, outcome: JobOutcome) -> None:
        self._history_dirty = True  # read on the next tick, not once per job

    @Slot(str, str)
    def on_bridge_auth_failed(self, service: str, message: str) -> None:
        self.header.show_auth_failure(service, message)

    @Slot(object)
    def on_bridge_check_changed(self, progress: object) -> None:
        if progress is None and self.isVisible():
            self.check_reader.request()  # finished: read its result

    @Slot(object)
    def on_check_fix_requested(self, scene_ids: list[str] | None) -> None:
        self.bridge.check_fix(scene_ids)
        self._show_message("Queued to fix; they sync through the normal queue.")
        self._follow_up.start()

    # --- DLQ commands --------------------------------------------------------------------------

    @Slot(object)
    def on_dlq_retry_requested(self, ids: list[int] | None) -> None:
        self.bridge.dlq_retry(ids)
        self._after_command()

    @Slot(object)
    def on_dlq_delete_requested(self, ids: list[int] | None) -> None:
        self.bridge.dlq_delete(ids)
        self._after_command()

    def _after_command(self) -> None:
        self._refresh(Section.DLQ | Section.COUNTS)
        self._follow_up.start()

    # --- store reads ---------------------------------------------------------------------------

    def _refresh(self, sections: Section) -> None:
        if not sections:
            return
        if self._status is not None:
            sections &= ~Section.COUNTS  # the engine's status is newer than any read
        if not self.isVisible():
            self._stale |= sections
            return
        if Section.HISTORY in sections:
            self._history_dirty = False
        self.reader.request(sections)

    @Slot(object)
    def on_reader_snapshot_ready(self, snapshot: StoreSnapshot) -> None:
        if snapshot.counts is not None and self._status is None:
            c = snapshot.counts
            self.counters.set_counters(
                Counters(
                    pending=c.counts.pending,
                    waiting=c.counts.waiting,
                    in_progress=c.counts.in_progress,
                    synced_today=c.synced_today,
                    dlq=c.counts.dlq,
                    last_sync_at=c.last_sync_at,
                )
            )
        if snapshot.dlq is not None:
            self.dlq.set_entries(snapshot.dlq.entries, snapshot.dlq.total)
            self._set_dlq_count(snapshot.dlq.total)
        if snapshot.history is not None:
            history = snapshot.history
            self.timeline.set_outages(
                history.outages,
                history.outages_since,
                history.now,
                stash_outages=history.stash_outages,
                runs=history.runs,
            )
            self.outage_summary.setText(
                "\n".join(
                    stats_text(self.timeline.stats(name), OUTAGE_DAYS, name) for name in SERVICES
                )
            )
            self.throughput.set_data(history.per_minute, history.now)
            self._history_minute = int(history.now // 60)

    @Slot(str)
    def on_reader_read_failed(self, message: str) -> None:
        self._show_message(f"Could not read the queue database: {message}")

    def _on_follow_up(self) -> None:
        self._refresh(Section.DLQ | Section.COUNTS)
        if self.isVisible():
            self.check_reader.request()

    def _on_tick(self) -> None:
        self.counters.refresh_relative_times()
        minute = int(self._clock() // 60)
        if self._history_dirty or minute != self._history_minute:
            self._refresh(Section.HISTORY)

    def _set_dlq_count(self, count: int) -> None:
        index = self.tabs.indexOf(self.dlq)
        self.tabs.setTabText(index, self.tr("&Failed scenes (%1)").replace("%1", f"{count:,}"))

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # --- Qt events -----------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Read everything on the first show; later, what changed while hidden (history always).
        stale = self._stale | Section.HISTORY if self._shown_once else Section.ALL
        self._stale, self._shown_once = Section(0), True
        self._refresh(stale)
        self.check_reader.request()
        self._tick.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._tick.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Accept: the window hides (it is not deleted) and the app stays in the tray."""
        event.accept()
