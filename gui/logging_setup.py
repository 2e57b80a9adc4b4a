"""Logging for the tray app: the shared masked setup (`engine.runtime.logs`) plus Qt's own messages.

Every handler formats through `MaskingFormatter`, which replaces the configured token and API key
(and anything shaped like a credential) in the final text, tracebacks included. `gui.launcher` calls
`setup_logging` once; `plexsync run` uses the same code.
"""

from __future__ import annotations

import logging

from engine.masking import MASK, MaskingFormatter, SecretMasker
from engine.runtime.logs import TRAY_LOG_FILE as LOG_FILE
from engine.runtime.logs import setup_logging

__all__ = [
    "LOG_FILE",
    "MASK",
    "MaskingFormatter",
    "SecretMasker",
    "install_qt_message_handler",
    "setup_logging",
]


def install_qt_message_handler() -> None:
    """Route Qt's own warnings into our log (and through the masker)."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_logger = logging.getLogger("qt")
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        qt_logger.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)
