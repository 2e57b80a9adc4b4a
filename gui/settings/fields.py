"""Editors for the settings dialog: masked secrets, the library picker, the path mappings table,
the config model's number bounds, and the inline error label every field gets."""

from __future__ import annotations

from typing import Any

from annotated_types import Ge, Le
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.config.file import PathMapping, PlexSyncConfig


def field_bounds(name: str) -> tuple[float, float]:
    """The model's own `ge`/`le` for a numeric field, so the boxes and pydantic agree."""
    low, high = 0.0, 1_000_000.0
    for item in PlexSyncConfig.model_fields[name].metadata:
        if isinstance(item, Ge):
            low = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, Le):
            high = float(item.le)  # type: ignore[arg-type]
    return low, high


class ErrorLabel(QLabel):
    """Red text under a field; hidden while the field is fine."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.WindowText, Qt.GlobalColor.red)
        self.setPalette(palette)
        self.hide()

    def show_problems(self, messages: list[str]) -> None:
        self.setText("\n".join(messages))
        self.setVisible(bool(messages))


def with_error(editor: QWidget, hint: str = "") -> tuple[QWidget, ErrorLabel]:
    """`editor` above its (hidden) error label and an optional grey hint."""
    box = QWidget()
    box.setFocusProxy(editor)  # a label's mnemonic (its buddy is `box`) focuses the editor
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(editor)
    error = ErrorLabel(box)
    layout.addWidget(error)
    if hint:
        note = QLabel(hint, box)
        note.setWordWrap(True)
        note.setEnabled(False)  # drawn in the palette's disabled (grey) colour
        layout.addWidget(note)
    return box, error


class SecretEdit(QWidget):
    """A masked line edit with a Show/Hide toggle; the text never appears in logs."""

    textChanged = Signal(str)  # mirrors QLineEdit's signal name

    def __init__(self, name: str, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setObjectName(name)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText(placeholder)
        self.edit.textChanged.connect(self.textChanged)
        self.setFocusProxy(self.edit)
        self.reveal = QToolButton(self)
        self.reveal.setText(self.tr("S&how"))
        self.reveal.setCheckable(True)
        self.reveal.setToolTip(self.tr("Show or hide the value"))
        self.reveal.toggled.connect(self._on_reveal_toggled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.reveal)

    def _on_reveal_toggled(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.edit.setEchoMode(mode)
        self.reveal.setText(self.tr("&Hide") if shown else self.tr("S&how"))

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:  # Qt naming, like QLineEdit
        self.edit.setText(text)

    def is_revealed(self) -> bool:
        return self.edit.echoMode() == QLineEdit.EchoMode.Normal


class LibraryPicker(QListWidget):
    """Plex movie libraries to sync, as check boxes; none checked means all of them."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plex_libraries")
        self.setMaximumHeight(120)
        self.itemChanged.connect(lambda _item: self.changed.emit())

    def set_libraries(self, available: list[str], chosen: list[str]) -> None:
        """Show `available` (plus any chosen ones Plex no longer lists), checking `chosen`."""
        wanted = {title.casefold() for title in chosen}
        titles = list(dict.fromkeys([*available, *chosen]))
        self.blockSignals(True)
        self.clear()
        for title in titles:
            item = QListWidgetItem(title, self)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = title.casefold() in wanted
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.blockSignals(False)
        self.changed.emit()

    def chosen(self) -> list[str]:
        items = (self.item(row) for row in range(self.count()))
        return [i.text() for i in items if i.checkState() == Qt.CheckState.Checked]

    def titles(self) -> list[str]:
        return [self.item(row).text() for row in range(self.count())]


class PathMappingsEditor(QWidget):
    """A two-column table (Stash prefix, Plex prefix) with Add and Remove."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("path_mappings")
        self.table.setHorizontalHeaderLabels(
            [self.tr("Path in Stash"), self.tr("Same path in Plex")]
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(90)
        self.table.itemChanged.connect(lambda _item: self.changed.emit())
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move between cells
        self.add_button = QPushButton(self.tr("A&dd mapping"), self)
        self.add_button.clicked.connect(lambda: self.add_row("", ""))
        self.remove_button = QPushButton(self.tr("Re&move"), self)
        self.remove_button.setToolTip(self.tr("Remove the selected mappings"))
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def set_mappings(self, mappings: list[PathMapping]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self.table.blockSignals(False)
        for mapping in mappings:
            self.add_row(mapping.stash_prefix, mapping.plex_prefix, notify=False)
        self.changed.emit()

    def add_row(self, stash_prefix: str, plex_prefix: str, *, notify: bool = True) -> None:
        self.table.blockSignals(True)
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(stash_prefix))
        self.table.setItem(row, 1, QTableWidgetItem(plex_prefix))
        self.table.blockSignals(False)
        if notify:
            self.changed.emit()

    def remove_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self.changed.emit()

    def values(self) -> list[dict[str, Any]]:
        """The rows with anything in them (a row just added and still blank is not an error)."""
        result = []
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, col) for col in (0, 1)]
            stash, plex = ((c.text().strip() if c is not None else "") for c in cells)
            if stash or plex:
                result.append({"stash_prefix": stash, "plex_prefix": plex})
        return result

    def table_row(self, index: int) -> int:
        """The table row (0-based) of the `index`-th entry of `values()`."""
        filled = [
            row
            for row in range(self.table.rowCount())
            if any(
                (c := self.table.item(row, col)) is not None and c.text().strip() for col in (0, 1)
            )
        ]
        return filled[index] if index < len(filled) else index
