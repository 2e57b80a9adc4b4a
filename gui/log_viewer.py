"""A simple log viewer: the tail of the current log file, with Refresh.

Only the last `TAIL_BYTES` are read (a bounded read costs the UI thread a millisecond however
large the file grew; older lines are in the rotated files of the log folder).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.mnemonics import label_standard_buttons
from gui.translations import fill
from gui.window_fit import add_close_keys

TAIL_BYTES = 200 * 1024


def read_tail(path: Path, limit: int = TAIL_BYTES) -> str:
    """The last `limit` bytes of a file as text, starting at a whole line."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        start = max(0, size - limit)
        handle.seek(start)
        data = handle.read(limit)
    if start:
        newline = data.find(b"\n")
        data = data[newline + 1 :] if newline >= 0 else data
    return data.decode("utf-8", errors="replace")


class LogViewer(QDialog):
    def __init__(
        self,
        log_file: Path,
        open_folder: Callable[[], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Log"))
        self.setObjectName("logViewer")
        self.log_file = log_file
        self.where = QLabel(wordWrap=True)
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName(self.tr("Log lines"))
        self.refresh_button = QPushButton(self.tr("&Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        self.folder_button = QPushButton(self.tr("Open log &folder"))
        self.folder_button.clicked.connect(lambda: open_folder())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        label_standard_buttons(buttons)
        buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        add_close_keys(self)  # Esc and Ctrl+W, as in the status window
        self.resize(900, 560)
        self.refresh()

    def refresh(self) -> None:
        try:
            text = read_tail(self.log_file)
        except FileNotFoundError:
            self.where.setText(fill(self.tr("No log yet at %1."), self.log_file))
            self.text.setPlainText("")
            return
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.where.setText(fill(self.tr("Could not read %1: %2"), self.log_file, reason))
            return
        self.where.setText(
            fill(self.tr("The last lines of %1 (newest at the bottom)."), self.log_file)
        )
        self.text.setPlainText(text)
        self.text.moveCursor(QTextCursor.MoveOperation.End)
        self.text.ensureCursorVisible()
