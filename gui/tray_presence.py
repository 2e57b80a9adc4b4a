"""Where the app shows itself: the tray icon, or a small window when there is no tray.

At login the panel may start after us, so `--autostart` waits up to 30 s for a tray before
falling back to the window; afterwards the tray is watched, because it can come and go while the
app runs (a panel restart, a shell extension turned off).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from gui.bridge import EngineBridge
from gui.fallback_window import FallbackWindow
from gui.icons import IconCache
from gui.presentation import TrayState
from gui.tray import TrayController

logger = logging.getLogger(__name__)

TRAY_WAIT_S = 30.0
TRAY_POLL_MS = 1000
TRAY_WATCH_MS = 5000


class TrayPresence(QObject):
    """Shows the tray icon or the fallback window, and follows the tray coming and going."""

    quit_requested = Signal()  # the fallback window was closed

    def __init__(
        self,
        tray: TrayController,
        bridge: EngineBridge,
        icons: IconCache,
        *,
        open_status: Callable[[], None] | None,
        open_settings: Callable[[], None],
        tray_available: Callable[[], bool],
        launched_at_login: bool = False,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tray = tray
        self._bridge = bridge
        self._icons = icons
        self._open_status = open_status
        self._open_settings = open_settings
        self._tray_available = tray_available
        self._launched_at_login = launched_at_login
        self._clock = clock
        self._monotonic = monotonic
        self.fallback: FallbackWindow | None = None
        self._deadline = 0.0
        self._wait_timer = QTimer(self)
        self._wait_timer.setInterval(TRAY_POLL_MS)
        self._wait_timer.timeout.connect(self.on_wait_tick)
        self._watch = QTimer(self)
        self._watch.setInterval(TRAY_WATCH_MS)
        self._watch.timeout.connect(self.on_watch_tick)

    def show(self) -> None:
        if self._tray_available():
            self._tray.show()
        elif self._launched_at_login:
            logger.info("No system tray yet; waiting up to %.0f s for it", TRAY_WAIT_S)
            self._deadline = self._monotonic() + TRAY_WAIT_S
            self._wait_timer.start()
            return
        else:
            self._show_fallback()
        self._watch.start()

    def stop(self) -> None:
        self._wait_timer.stop()
        self._watch.stop()

    @Slot()
    def on_wait_tick(self) -> None:
        if self._tray_available():
            self._wait_timer.stop()
            logger.info("The system tray appeared")
            self._tray.show()
            self._watch.start()
        elif self._monotonic() >= self._deadline:
            self._wait_timer.stop()
            logger.warning("No system tray after %.0f s: showing a window instead", TRAY_WAIT_S)
            self._show_fallback()
            self._watch.start()

    @Slot()
    def on_watch_tick(self) -> None:
        available = self._tray_available()
        fallback_shown = self.fallback is not None and self.fallback.isVisible()
        if available and fallback_shown:
            logger.info("A system tray appeared: moving to it")
            self._tray.show()
            self.fallback.hide()  # type: ignore[union-attr]
        elif not available and not fallback_shown:
            logger.warning("The system tray went away: showing a window instead")
            self._show_fallback()

    def _show_fallback(self) -> None:
        if self.fallback is None:
            self.fallback = FallbackWindow(
                self._icons,
                open_status=self._open_status,
                open_settings=self._open_settings,
                clock=self._clock,
            )
            self.fallback.setWindowIcon(self._icons.icon(TrayState.CLOSED))
            self.fallback.quit_requested.connect(self.quit_requested)
            self._bridge.status_changed.connect(self.fallback.on_bridge_status_changed)
            self.fallback.set_status(self._bridge.status)
        self.fallback.show()
        self.fallback.raise_()
