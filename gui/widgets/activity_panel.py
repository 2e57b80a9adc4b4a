"""The "Recent activity" tab: what was synced and what changed, failures, library checks.

Double-click opens the item in Plex's web app (a synced scene) or the scene in Stash (a failed
one); the buttons choose explicitly. Rows come from `ActivityTableModel`, page by page.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.store.activity import Activity, ActivityKind
from gui.widgets.activity_table import ActivityReader, ActivityTableModel

REFRESH_MS = 2000  # new activity shows within this while the tab is visible


class ActivityPanel(QWidget):
    open_requested = Signal(object, str)  # Activity, "plex" or "stash"

    def __init__(self, database: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reader = ActivityReader(database, self)
        self.model = ActivityTableModel(self.reader, self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.setWordWrap(False)  # one line a row: the full text is in the tooltip
        metrics = self.view.fontMetrics()
        self.view.verticalHeader().setDefaultSectionSize(metrics.height() + 8)
        header = self.view.horizontalHeader()
        for column, sample in ((0, "2026-12-31 23:59:59"), (1, self.tr("Library check"))):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 24)
        header.resizeSection(2, metrics.horizontalAdvance("x" * 32))
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.view.setAccessibleName(self.tr("Recent activity"))
        self.view.doubleClicked.connect(self._on_double_clicked)
        self.hint = QLabel(
            self.tr("Double-click a scene to open it in Plex (or in Stash if it failed).")
        )
        self.open_plex_button = QPushButton(self.tr("Open in &Plex"))
        self.open_stash_button = QPushButton(self.tr("Open in St&ash"))
        self.open_plex_button.clicked.connect(lambda: self._open_selected("plex"))
        self.open_stash_button.clicked.connect(lambda: self._open_selected("stash"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.hint, 1)
        buttons.addWidget(self.open_plex_button)
        buttons.addWidget(self.open_stash_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self._dirty = True
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self._on_timer)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self._update_buttons()

    def mark_dirty(self, *_args: object) -> None:
        """Something happened (a job finished, a check ended): re-read when next visible."""
        self._dirty = True

    def reload(self) -> None:
        self._dirty = False
        self.model.reload()

    def close_reader(self) -> None:
        self._timer.stop()
        self.reader.close()

    def selected(self) -> Activity | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.entry(rows[0].row()) if rows else None

    def _on_timer(self) -> None:
        if self._dirty and self.isVisible():
            self.reload()

    def _on_double_clicked(self, index: QModelIndex) -> None:
        entry = self.model.entry(index.row())
        if entry.kind is ActivityKind.SYNCED and entry.rating_key:
            self.open_requested.emit(entry, "plex")
        elif entry.scene_id:
            self.open_requested.emit(entry, "stash")

    def _open_selected(self, target: str) -> None:
        entry = self.selected()
        if entry is not None:
            self.open_requested.emit(entry, target)

    def _update_buttons(self, *_args: object) -> None:
        entry = self.selected()
        self.open_plex_button.setEnabled(entry is not None and bool(entry.rating_key))
        self.open_stash_button.setEnabled(entry is not None and bool(entry.scene_id))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.reload()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)


def add_activity_tab(
    window: QWidget, tabs: QTabWidget, bridge: object, database: Path
) -> ActivityPanel:
    """Build the tab, add it to the window's tab widget, and follow the bridge's events."""
    panel = ActivityPanel(database, window)
    tabs.addTab(panel, panel.tr("Recent activity"))
    for name in ("job_finished", "check_changed", "dead_lettered"):
        signal = getattr(bridge, name, None)
        if signal is not None:
            signal.connect(panel.mark_dirty)
    return panel
