"""The "Library check" tab: the last check's counts and findings, progress, and Fix actions.

`CheckReader` reads the result from the store on its own worker thread (never the UI thread) and
delivers it by a signal; the panel only shows what it is given and asks for commands by signals:
`check_requested`, and `fix_requested(list of scene ids, or None for all)`.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.events import CheckProgress
from engine.store.checks import CheckKind, CheckStore, CheckSummary, Finding
from gui.translations import translate_n

logger = logging.getLogger(__name__)


def tr(text: str) -> str:
    """The panel's context, also for the tables below (translated when shown)."""
    return QCoreApplication.translate("LibraryCheckPanel", text)


KIND_WORDS = {
    CheckKind.NOT_IN_PLEX: "Not in Plex",
    CheckKind.NEVER_SYNCED: "Never synced",
    CheckKind.POSSIBLE_MATCH: "Possible match",
    CheckKind.DRIFTED: "Drifted",
    CheckKind.ORPHAN: "Orphan",
    CheckKind.DLQ_RESOLVED: "DLQ cause gone",
    CheckKind.FOLLOW_UP_DROPPED: "Follow-ups given up",
}
PHASE_WORDS = {
    "sections": "Reading the Plex libraries",
    "plex": "Reading Plex",
    "stash": "Comparing with Stash",
    "reads": "Reading changed Plex items",
    "dlq": "Checking the dead-letter queue",
}
COLUMNS = ("Scene", "Title", "Kind", "What differs")
ROW_LIMIT = 5000  # the table shows this many; the counts cover all


@dataclass(frozen=True)
class CheckResult:
    summary: CheckSummary | None
    findings: list[Finding] = field(default_factory=list)


def read_result(checks: CheckStore) -> CheckResult:
    """The last finished check, read from the store."""
    summary = checks.last_summary()
    findings = checks.findings(limit=ROW_LIMIT) if summary is not None else []
    return CheckResult(summary, findings)


class CheckReader(QObject):
    """Reads check results on a worker thread; `result_ready` arrives on the GUI thread."""

    result_ready = Signal(object)  # CheckResult
    read_failed = Signal(str)

    def __init__(self, database: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="check-reader")
        self._store: CheckStore | None = None

    def request(self) -> None:
        try:
            self._pool.submit(self._read)
        except RuntimeError:  # closed
            pass

    def _read(self) -> None:
        try:
            if self._store is None:
                self._store = CheckStore(self._database)
            result = read_result(self._store)
        except Exception as exc:
            logger.warning("Could not read the library check: %s", exc)
            self.read_failed.emit(str(exc))
            return
        self.result_ready.emit(result)

    def close(self) -> None:
        try:
            self._pool.submit(self._close_store)
        except RuntimeError:
            return  # closed already
        self._pool.shutdown(wait=True)

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def what_differs(finding: Finding) -> str:
    parts = list(finding.fields)
    if finding.kept:
        parts.append(tr("kept in Plex: %1").replace("%1", ", ".join(finding.kept)))
    return ", ".join(parts) or finding.detail


class LibraryCheckPanel(QWidget):
    check_requested = Signal()
    fix_requested = Signal(object)  # list[str] | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary_label = QLabel(self.tr("No library check yet."), wordWrap=True)
        self.counts_label = QLabel("", wordWrap=True)
        self.progress_label = QLabel("")
        self.progress_bar = QProgressBar()
        self.check_button = QPushButton(self.tr("&Check library now"))
        self.fix_selected_button = QPushButton(self.tr("Fi&x selected"))
        self.fix_all_button = QPushButton(self.tr("Fix &all"))
        self.check_button.setToolTip(
            self.tr("Compare every synced scene in Plex with what Stash says it should be")
        )
        self.fix_all_button.setToolTip(self.tr("Queue every difference found to be synced again"))
        for button in (self.check_button, self.fix_selected_button, self.fix_all_button):
            button.setAccessibleName(button.text().replace("&", ""))
        self.progress_bar.setAccessibleName(self.tr("Library check progress"))
        for label in (self.progress_label, self.progress_bar):  # no jump when a check starts
            policy = label.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            label.setSizePolicy(policy)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName(self.tr("Differences found"))
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move between cells
        self.table.setHorizontalHeaderLabels([tr(column) for column in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self._build_layout()
        self.check_button.clicked.connect(self.check_requested)
        self.fix_all_button.clicked.connect(lambda: self.fix_requested.emit(None))
        self.fix_selected_button.clicked.connect(self._fix_selected)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.set_progress(None)
        self.set_result(CheckResult(None))

    def _build_layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addStretch(1)
        buttons.addWidget(self.fix_selected_button)
        buttons.addWidget(self.fix_all_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    @Slot(object)
    def set_progress(self, progress: CheckProgress | None) -> None:
        running = progress is not None
        self.progress_label.setVisible(running)
        self.progress_bar.setVisible(running)
        self.check_button.setEnabled(not running)
        if progress is None:
            return
        words = tr(PHASE_WORDS.get(progress.phase, progress.phase))
        done = f"{progress.done:,}"
        if progress.total:
            self.progress_bar.setRange(0, progress.total)
            self.progress_bar.setValue(min(progress.done, progress.total))
            text = self.tr("%1: %2 of %3").replace("%1", words).replace("%2", done)
            self.progress_label.setText(text.replace("%3", f"{progress.total:,}"))
        else:
            self.progress_bar.setRange(0, 0)  # busy: the total is not known yet
            self.progress_label.setText(self.tr("%1: %2").replace("%1", words).replace("%2", done))

    @Slot(object)
    def set_result(self, result: CheckResult) -> None:
        summary = result.summary
        if summary is None:
            self.summary_label.setText(self.tr("No library check yet."))
            self.counts_label.setText("")
        else:
            when = dt.datetime.fromtimestamp(summary.finished_at, tz=dt.UTC).astimezone()
            scenes = translate_n(
                "LibraryCheckPanel", "1 scene with a file", "%n scenes with a file", summary.scenes
            )
            text = self.tr("Last check: %1, %2.").replace("%1", f"{when:%Y-%m-%d %H:%M}")
            self.summary_label.setText(text.replace("%2", scenes))
            self.counts_label.setText(
                "   ".join(
                    self.tr("%1: %2")
                    .replace("%1", tr(KIND_WORDS[k]))
                    .replace("%2", f"{summary.counts.get(k.value, 0):,}")
                    for k in CheckKind
                )
            )
        self._fill(result.findings)

    def _fill(self, findings: list[Finding]) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(findings))
        for row, finding in enumerate(findings):
            cells = (
                finding.scene_id,
                finding.title,
                tr(KIND_WORDS[finding.kind]),
                what_differs(finding),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, finding.scene_id)
                self.table.setItem(row, column, item)
        self.table.resizeColumnToContents(0)
        self._update_buttons()

    def selected_scene_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        ids = []
        for row in rows:
            item = self.table.item(row, 0)
            if item is not None:
                ids.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return ids

    def _fix_selected(self) -> None:
        ids = self.selected_scene_ids()
        if ids:
            self.fix_requested.emit(ids)

    def _update_buttons(self) -> None:
        self.fix_all_button.setEnabled(self.table.rowCount() > 0)
        self.fix_selected_button.setEnabled(bool(self.table.selectedIndexes()))
