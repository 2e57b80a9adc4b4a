"""The dead-letter queue tab: a sortable, filterable table, a details pane and the actions.

The panel never changes the store: Retry and Delete are emitted as requests (the window passes them
to the engine, which owns the queue), and the table follows the next store read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QItemSelection, QItemSelectionModel, Qt, Signal
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

from engine.errors import ErrorClass
from engine.store.jobs import DeadLetter
from gui.translations import translate_n
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
Confirm = Callable[[QWidget, str, str, str], bool]  # parent, title, question, action button

LAST_FAILURE_COLUMN = [attr for _, attr in COLUMNS].index("last_failure_at")
# Text as wide as a typical value, for the initial column widths (the user can resize them).
COLUMN_SAMPLES = (
    "Scene 000",
    "A typical title",
    "PermanentError",
    "Plex answered 400",
    "Attempts",
    "0000-00-00 00:00",
    "0000-00-00 00:00",
)


def tr(text: str) -> str:
    return QCoreApplication.translate("DlqPanel", text)


def failed_scenes(count: int) -> str:
    """`1 failed scene`, `2 failed scenes` (the plain words for dead-letter entries)."""
    return translate_n("DlqPanel", "1 failed scene", "%n failed scenes", count)


def ask_export_path(parent: QWidget, suggested: str) -> Path | None:
    """Ask where to save the CSV (replace in tests); None when cancelled."""
    name, _ = QFileDialog.getSaveFileName(
        parent,
        tr("Export the failed scenes"),
        suggested,
        tr("CSV files (*.csv);;All files (*)"),
    )
    if not name:
        return None
    path = Path(name)
    return path if path.suffix else path.with_suffix(".csv")


def confirm_action(parent: QWidget, title: str, text: str, action: str) -> bool:
    """Ask before a destructive action; the button names it and Cancel is the default."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    confirm = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is confirm


class DlqPanel(QWidget):
    """Table + filter + details + Retry selected / Retry all / Delete selected / Export CSV."""

    retry_requested = Signal(object)  # list[int], or None for all
    confirm_requested = Signal(int)  # a possible match's entry id: its candidate is the file
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
        self.filter_edit = QLineEdit(placeholderText=tr("Filter by scene, title or error…"))
        self.filter_edit.setAccessibleName(tr("Filter failed scenes"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.count_label = QLabel()
        self.view = self._make_view()
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setAccessibleName(tr("Details of the selected failed scene"))
        self.details.setPlaceholderText(
            tr("Select an entry to see the full error and its payload.")
        )
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.retry_selected_button = QPushButton(tr("&Retry selected"))
        self.retry_all_button = QPushButton(tr("Retry &all"))
        self.delete_button = QPushButton(tr("&Delete selected…"))
        self.export_button = QPushButton(tr("E&xport CSV…"))
        self.confirm_button = QPushButton(tr("C&onfirm match"))
        self.confirm_button.setToolTip(
            tr("The Plex item named in the details is this scene's file: write it")
        )
        self.confirm_button.clicked.connect(self.confirm_selected)
        self.retry_selected_button.setToolTip(tr("Send the selected scenes back to the queue"))
        self.delete_button.setToolTip(
            tr("Remove the selected scenes from this list without retrying them")
        )
        self.retry_selected_button.clicked.connect(self.retry_selected)
        self.retry_all_button.clicked.connect(self.retry_all)
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button.clicked.connect(self.export)
        self.export_button.setToolTip(tr("Save the scenes shown (after the filter) as CSV"))
        for button in self.buttons():
            button.setAccessibleName(button.text().replace("&", "").rstrip("…"))
        self._add_view_actions()
        self._build_layout()
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self._update_labels()
        self._update_buttons()

    def _make_view(self) -> QTableView:
        view = QTableView()
        view.setAccessibleName(tr("Failed scenes"))
        view.setTabKeyNavigation(False)  # Tab leaves the table; arrows move between cells
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
        header.setMinimumSectionSize(view.fontMetrics().horizontalAdvance("Attempts") + 12)
        metrics = view.fontMetrics()
        for column, sample in enumerate(COLUMN_SAMPLES):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 16)
        return view

    def buttons(self) -> tuple[QPushButton, ...]:
        return (
            self.retry_selected_button,
            self.retry_all_button,
            self.confirm_button,
            self.delete_button,
            self.export_button,
        )

    def columns_width(self) -> int:
        """What the columns need side by side (the table fits when its viewport is as wide)."""
        header = self.view.horizontalHeader()
        return sum(header.sectionSize(c) for c in range(header.count() - 1)) + (
            header.minimumSectionSize()
        )

    def _add_view_actions(self) -> None:
        retry = QAction(tr("&Retry"), self.view)
        retry.triggered.connect(self.retry_selected)
        delete = QAction(tr("&Delete…"), self.view)
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
        for button in (
            self.retry_selected_button,
            self.retry_all_button,
            self.confirm_button,
            self.delete_button,
        ):
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
            self.message.emit(
                tr("Sending %1 back to the queue…").replace("%1", failed_scenes(len(ids)))
            )

    def confirm_selected(self) -> None:
        """A possible match (only its file name matched) is confirmed as the scene's file."""
        entries = self.selected_entries()
        if len(entries) == 1 and entries[0].error_class == ErrorClass.POSSIBLE_MATCH:
            self.confirm_requested.emit(entries[0].id)
            self.message.emit(tr("Match confirmed; the scene goes back to the queue…"))

    @property
    def filtered(self) -> bool:
        return self.proxy.rowCount() != self.model.rowCount()

    def retry_all(self) -> None:
        """Retry every failed scene, or, while a filter is set, every scene it shows."""
        if self.filtered:
            ids = [entry.id for entry in self.proxy.entries()]
            if ids:
                self.retry_requested.emit(ids)
                self.message.emit(
                    tr("Sending %1 back to the queue…").replace("%1", failed_scenes(len(ids)))
                )
            return
        if self._total:
            self.retry_requested.emit(None)
            self.message.emit(
                tr("Sending all %1 back to the queue…").replace("%1", failed_scenes(self._total))
            )

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        question = tr("Delete %1?").replace("%1", failed_scenes(len(ids)))
        text = (
            question
            + "\n\n"
            + tr("They are not retried; a scene syncs again only when it changes in Stash.")
        )
        if not self.confirm(self, tr("Delete failed scenes"), text, tr("&Delete")):
            return
        self.delete_requested.emit(ids)
        self.message.emit(tr("Deleting %1…").replace("%1", failed_scenes(len(ids))))

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
            self.message.emit(tr("Could not export: %1").replace("%1", exc.strerror or str(exc)))
            return None
        self.message.emit(
            tr("Exported %1 to %2").replace("%1", failed_scenes(count)).replace("%2", str(path))
        )
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
            self.details.setPlaceholderText(
                tr("%1 selected.").replace("%1", failed_scenes(len(current)))
            )
        else:
            self.details.setPlaceholderText(
                tr("Select a scene to see the full error and what was sent.")
            )

    def _update_labels(self) -> None:
        shown, loaded = self.proxy.rowCount(), self.model.rowCount()
        if self._total == 0:
            text = tr("No failed scenes.")
        elif shown != loaded:
            text = tr("%1 of %2 match").replace("%1", f"{shown:,}")
            text = text.replace("%2", failed_scenes(loaded))
        elif loaded < self._total:
            text = tr("Newest %1 of %2").replace("%1", f"{loaded:,}")
            text = text.replace("%2", failed_scenes(self._total))
        else:
            text = failed_scenes(self._total)
        self.count_label.setText(text)
        if self.filtered:
            self.retry_all_button.setText(tr("Retry &all shown (%1)").replace("%1", f"{shown:,}"))
            self.retry_all_button.setToolTip(tr("Send the scenes that match the filter back"))
        else:
            self.retry_all_button.setText(tr("Retry &all"))
            self.retry_all_button.setToolTip(tr("Send every failed scene back to the queue"))
        self.retry_all_button.setAccessibleName(self.retry_all_button.text().replace("&", ""))

    def _update_buttons(self) -> None:
        has_selection = self.view.selectionModel().hasSelection()
        self.retry_selected_button.setEnabled(has_selection)
        self.delete_button.setEnabled(has_selection)
        entries = self.selected_entries() if has_selection else []
        self.confirm_button.setEnabled(
            len(entries) == 1 and entries[0].error_class == ErrorClass.POSSIBLE_MATCH
        )
        self.retry_all_button.setEnabled(
            self.proxy.rowCount() > 0 if self.filtered else self._total > 0
        )
        self.export_button.setEnabled(self.proxy.rowCount() > 0)
