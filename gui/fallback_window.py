"""A small window shown when there is no system tray, so the app is never invisible.

It shows the same state (icon, words, countdown) as the tray would, explains why it is here, and
offers the status window, the settings and Quit. Closing it quits: with no tray there would be
no other way back to the app.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.events import EngineStatus
from gui.icons import IconCache
from gui.presentation import APP_TITLE, counts_line, last_sync_line, status_line, tray_state
from gui.translations import fill


def tr(text: str) -> str:
    return QCoreApplication.translate("FallbackWindow", text)


def no_tray_explanation(platform: str = sys.platform) -> str:
    lines = [tr("No system tray was found, so %1 shows this window instead.")]
    if platform.startswith("linux"):
        lines.append(
            tr(
                "On GNOME, install and enable the “AppIndicator and KStatusNotifierItem Support”"
                " extension, then start %1 again to get the tray icon."
            )
        )
    lines.append(tr("Closing this window quits %1."))
    return " ".join(fill(line, APP_TITLE) for line in lines)


class FallbackWindow(QWidget):
    quit_requested = Signal()

    def __init__(
        self,
        icons: IconCache,
        *,
        open_status: Callable[[], None] | None,
        open_settings: Callable[[], None],
        clock: Callable[[], float] = time.time,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_TITLE)
        self._icons = icons
        self._clock = clock
        self._status: EngineStatus | None = None
        self.icon_label = QLabel(self)
        self.state_label = QLabel(self)
        self.state_label.setObjectName("state")
        font = self.state_label.font()
        font.setBold(True)
        self.state_label.setFont(font)
        self.details_label = QLabel(self)
        self.explanation = QLabel(no_tray_explanation(), self)
        self.explanation.setWordWrap(True)
        self.explanation.setEnabled(False)
        header = QHBoxLayout()
        header.addWidget(self.icon_label)
        header.addWidget(self.state_label, 1)
        buttons = QHBoxLayout()
        if open_status is not None:
            status_button = QPushButton(self.tr("Sta&tus…"), self)
            status_button.clicked.connect(lambda: open_status())
            buttons.addWidget(status_button)
        settings_button = QPushButton(self.tr("&Settings…"), self)
        settings_button.clicked.connect(lambda: open_settings())
        buttons.addWidget(settings_button)
        buttons.addStretch(1)
        quit_button = QPushButton(self.tr("&Quit"), self)
        quit_button.clicked.connect(self.quit_requested)
        buttons.addWidget(quit_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.details_label)
        layout.addWidget(self.explanation)
        layout.addLayout(buttons)
        self.setMinimumWidth(380)
        self._timer = QTimer(self)  # the countdown, once a second while visible
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)

    @Slot(object)
    def on_bridge_status_changed(self, status: EngineStatus) -> None:
        self.set_status(status)

    def set_status(self, status: EngineStatus | None) -> None:
        self._status = status
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        status, now = self._status, self._clock()
        state = tray_state(status)
        self.icon_label.setPixmap(self._icons.icon(state).pixmap(32, 32))
        self.state_label.setText(status_line(status, now))
        lines = [line for line in (counts_line(status), last_sync_line(status, now)) if line]
        self.details_label.setText("\n".join(lines))

    def showEvent(self, event: object) -> None:
        self._timer.start()
        self.refresh()
        super().showEvent(event)  # type: ignore[arg-type]

    def hideEvent(self, event: object) -> None:
        self._timer.stop()
        super().hideEvent(event)  # type: ignore[arg-type]

    def closeEvent(self, event: QCloseEvent) -> None:
        event.accept()
        self.quit_requested.emit()
