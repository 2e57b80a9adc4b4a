"""The dead-letter queue tab: a sortable, filterable table, a details pane and the actions.

The panel never changes the store: Retry and Delete are emitted as requests (the window passes them
to the engine, which owns the queue), and the table follows the next store read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.store import DeadLetter
from gui.widgets.dlq_table import (
    COLUMNS,
    ENTRY_ROLE,
    DlqFilterProxy,
    DlqTableModel,
    details_text,
    export_csv,
)

logger = logging.getLogger(__name__)

AskPath = Callable[[QWidget, str], Path | None]
Confirm = Callable[[QWidget, str, str], bool]

LAST_FAILURE_COLUMN = [attr for _, attr in COLUMNS].index("last_failure_at")
# Text as wide as a typical value, for the initial column widths (the user can resize them).
COLUMN_SAMPLES = (
    "Scene 000",
    "A typical scene title",
    "PermanentError",
    "Plex answered 400 Bad",
    "Attempts",
    "0000-00-00 00:00:00",
    "0000-00-00 00:00:00",
)


def ask_export_path(parent: QWidget, suggested: str) -> Path | None:
    """Ask where to save the CSV (replace in tests); None when cancelled."""
    name, _ = QFileDialog.getSaveFileName(
        parent, "Export the dead-letter queue", suggested, "CSV files (*.csv);;All files (*)"
    )
    if not name:
        return None
    path = Path(name)
    return path if path.suffix else path.with_suffix(".csv")


def confirm_action(parent: QWidget, title: str, text: str) -> bool:
    """Ask a yes/no question, No by default (replace in tests)."""
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    answer = QMessageBox.question(parent, title, text, buttons, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class DlqPanel(QWidget):
    """Table + filter + details + Retry selected / Retry all / Delete selected / Export CSV."""

    retry_requested = Signal(object)  # list[int], or None for all
    delete_requested = Signal(object)  # list[int]
    message = Signal(str)  # a short note for the status bar

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        ask_path: AskPath = ask_export_path,
        confirm: Confirm = confirm_action,
    ) -> None:
        super().__init__(parent)
        self.ask_path = ask_path
        self.confirm = confirm
        self._total = 0
        self.model = DlqTableModel(self)
        self.proxy = DlqFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter_edit = QLineEdit(placeholderText="Filter by scene, title or error…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.count_label = QLabel()
        self.view = self._make_view()
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setPlaceholderText("Select an entry to see the full error and its payload.")
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.retry_selected_button = QPushButton("Retry selected")
        self.retry_all_button = QPushButton("Retry all")
        self.delete_button = QPushButton("Delete selected…")
        self.export_button = QPushButton("Export CSV…")
        self.retry_selected_button.clicked.connect(self.retry_selected)
        self.retry_all_button.clicked.connect(self.retry_all)
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button.clicked.connect(self.export)
        self.retry_all_button.setToolTip("Send every entry back to the queue, filtered or not")
        self.export_button.setToolTip("Save the entries shown (after the filter) as CSV")
        self._add_view_actions()
        self._build_layout()
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self._update_labels()
        self._update_buttons()

    def _make_view(self) -> QTableView:
        view = QTableView()
        view.setModel(self.proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(LAST_FAILURE_COLUMN, Qt.SortOrder.DescendingOrder)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().hide()
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        metrics = view.fontMetrics()
        for column, sample in enumerate(COLUMN_SAMPLES):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 24)
        return view

    def _add_view_actions(self) -> None:
        retry = QAction("Retry", self.view)
        retry.triggered.connect(self.retry_selected)
        delete = QAction("Delete…", self.view)
        delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self.delete_selected)
        self.view.addActions([retry, delete])
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.count_label)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        buttons = QHBoxLayout()
        for button in (self.retry_selected_button, self.retry_all_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

    # --- data ----------------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return self._total

    def set_entries(self, entries: Sequence[DeadLetter], total: int | None = None) -> None:
        """Show a fresh read of the DLQ, keeping the selection (by entry id) and the sort."""
        selected = set(self.selected_ids())
        self.model.set_entries(entries)
        self._total = len(entries) if total is None else total
        if selected:
            self.select_ids(selected)
        self._update_labels()
        self._update_buttons()
        self._show_details()

    def selected_entries(self) -> list[DeadLetter]:
        return self.proxy.entries_for(self.view.selectionModel().selectedRows())

    def selected_ids(self) -> list[int]:
        return [entry.id for entry in self.selected_entries()]

    def select_ids(self, ids: set[int]) -> None:
        """Select the rows of these entries (those that are shown)."""
        selection = QItemSelection()
        for row in range(self.proxy.rowCount()):
            if self.proxy.data(self.proxy.index(row, 0), ENTRY_ROLE).id in ids:
                selection.select(self.proxy.index(row, 0), self.proxy.index(row, len(COLUMNS) - 1))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.view.selectionModel().select(selection, flags)

    # --- actions -------------------------------------------------------------------------------

    def retry_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.retry_requested.emit(ids)
            self.message.emit(f"Sending {_entries(len(ids))} back to the queue…")

    def retry_all(self) -> None:
        if self._total:
            self.retry_requested.emit(None)
            self.message.emit(f"Sending all {_entries(self._total)} back to the queue…")

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        text = (
            f"Delete {_entries(len(ids))} from the dead-letter queue?\n\n"
            "Deleted entries are not retried; a scene syncs again only when it changes in Stash."
        )
        if not self.confirm(self, "Delete dead-letter entries", text):
            return
        self.delete_requested.emit(ids)
        self.message.emit(f"Deleting {_entries(len(ids))}…")

    def export(self) -> Path | None:
        """Write the rows shown (filtered, in view order) to a CSV the user picks."""
        entries = self.proxy.entries()
        if not entries:
            return None
        suggested = time.strftime("plexsync-dead-letters-%Y%m%d-%H%M.csv")
        path = self.ask_path(self, suggested)
        if path is None:
            return None
        try:
            count = export_csv(entries, path)
        except OSError as exc:
            logger.warning("Could not export the dead-letter queue to %s: %s", path, exc)
            self.message.emit(f"Could not export: {exc.strerror or exc}")
            return None
        self.message.emit(f"Exported {_entries(count)} to {path}")
        return path

    # --- view state ----------------------------------------------------------------------------

    def _on_filter_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_labels()
        self._update_buttons()

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_buttons()
        self._show_details()

    def _show_details(self) -> None:
        current = self.selected_entries()
        self.details.setPlainText(details_text(current[0]) if len(current) == 1 else "")
        if len(current) > 1:
            self.details.setPlaceholderText(f"{len(current)} entries selected.")
        else:
            self.details.setPlaceholderText("Select an entry to see the full error and payload.")

    def _update_labels(self) -> None:
        shown, loaded = self.proxy.rowCount(), self.model.rowCount()
        if self._total == 0:
            text = "The dead-letter queue is empty."
        elif shown != loaded:
            text = f"{shown:,} of {_entries(loaded)} match"
        elif loaded < self._total:
            text = f"Newest {loaded:,} of {_entries(self._total)}"
        else:
            text = _entries(self._total)
        self.count_label.setText(text)

    def _update_buttons(self) -> None:
        has_selection = self.view.selectionModel().hasSelection()
        self.retry_selected_button.setEnabled(has_selection)
        self.delete_button.setEnabled(has_selection)
        self.retry_all_button.setEnabled(self._total > 0)
        self.export_button.setEnabled(self.proxy.rowCount() > 0)


def _entries(count: int) -> str:
    return f"{count:,} entry" if count == 1 else f"{count:,} entries"
