"""SIGTERM/SIGINT (and SIGHUP) quit the Qt app in order instead of killing it mid-job.

Python runs signal handlers only between bytecodes, and Qt's event loop runs in C++, so a signal
would wait for the next Python call. `signal.set_wakeup_fd` writes the signal number to a socket
that a QSocketNotifier watches, which wakes the loop at once; where that is not possible a
200 ms timer gives Python a chance to run the handler.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from types import FrameType
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier, QTimer, Slot

logger = logging.getLogger(__name__)

QUIT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


class QuitOnSignals(QObject):
    def __init__(self, app: QCoreApplication, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._previous: dict[int, Any] = {}
        self._received: int | None = None
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        self._notifier: QSocketNotifier | None = None
        self._timer: QTimer | None = None
        self._old_wakeup_fd = -1
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be installed from the main thread
        for signum in QUIT_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self._reader, self._writer = socket.socketpair()
            for sock in (self._reader, self._writer):
                sock.setblocking(False)
            self._old_wakeup_fd = signal.set_wakeup_fd(self._writer.fileno())
            notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
            notifier.activated.connect(self._on_wakeup)
            self._notifier = notifier
        except (OSError, ValueError):
            logger.debug("No wake-up fd for signals; polling instead")
            self._timer = QTimer(self)
            self._timer.setInterval(200)
            self._timer.timeout.connect(self._check)
            self._timer.start()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._received = signum

    @Slot()
    def _on_wakeup(self) -> None:
        data = b""
        try:
            while self._reader is not None and (chunk := self._reader.recv(64)):
                data += chunk
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            logger.debug("Reading the signal wake-up socket failed", exc_info=True)
        # The wake-up byte is the signal number; the Python-level handler may not have run yet.
        quit_numbers = {int(s) for s in QUIT_SIGNALS}
        if self._received is None and any(byte in quit_numbers for byte in data):
            self._received = next(byte for byte in data if byte in quit_numbers)
        self._check()

    @Slot()
    def _check(self) -> None:
        signum, self._received = self._received, None
        if signum is not None:
            logger.info("Received %s: quitting", signal.Signals(signum).name)
            self._app.quit()

    def close(self) -> None:
        """Restore the previous handlers and wake-up fd."""
        if self._notifier is not None:
            self._notifier.setEnabled(False)
        if self._timer is not None:
            self._timer.stop()
        if self._writer is not None:
            try:
                signal.set_wakeup_fd(self._old_wakeup_fd)
            except ValueError:
                pass
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        for sock in (self._reader, self._writer):
            if sock is not None:
                sock.close()
        self._reader = self._writer = None
