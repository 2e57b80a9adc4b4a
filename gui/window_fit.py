"""Window sizes that fit the screen, and the keys that close a window (Esc, Ctrl+W)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

SCREEN_SHARE = 0.9  # leave room for panels and the window frame


def fit_size(widget: QWidget, wanted: QSize) -> QSize:
    """`wanted`, shrunk to the screen's available area (at 200 % scaling it is half as big)."""
    screen = widget.screen()
    if screen is None:
        return wanted
    room = screen.availableGeometry().size() * SCREEN_SHARE
    return wanted.boundedTo(room)


def resize_to_fit(widget: QWidget, wanted: QSize) -> None:
    """Resize to `wanted` (or the layout's minimum) but never beyond the screen."""
    size = fit_size(widget, wanted.expandedTo(widget.minimumSizeHint()))
    widget.setMinimumSize(widget.minimumSize().boundedTo(size))
    widget.resize(size)


def add_close_keys(widget: QWidget) -> None:
    """Esc and Ctrl+W (the platform's Close key) close the window."""
    sequences = {"Ctrl+W", "Escape"} | {
        key.toString() for key in QKeySequence.keyBindings(QKeySequence.StandardKey.Close)
    }
    for sequence in sorted(sequences):
        shortcut = QShortcut(QKeySequence(sequence), widget)
        shortcut.activated.connect(widget.close)
