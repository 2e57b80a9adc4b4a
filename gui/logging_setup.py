"""Logging for the tray app: a rotating file in the log dir, and never a secret.

Every handler formats through `MaskingFormatter`, which replaces the configured token and API key
(and anything shaped like a Plex token or API key parameter) in the final text, tracebacks
included. The engine never configures handlers; this module is called once from `gui.app`.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

LOG_FILE = "plexsync-tray.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
MASK = "********"
FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"

_PATTERNS = (
    re.compile(r"(?i)(x-plex-token[=:]\s*)[^\s&\"',;]+"),
    re.compile(r"(?i)(apikey[=:]\s*)[^\s&\"',;]+"),
    re.compile(r"(?i)(api[_-]key[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;]+"),
    re.compile(r"(?i)(plex[_-]token[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;]+"),
)


class SecretMasker:
    """The secrets to hide; updated whenever a new config is applied."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is masked whole. Very short values
        # would mask ordinary words; a real token is never that short.
        cleaned = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        with self._lock:
            self._secrets = tuple(cleaned)

    def mask(self, text: str) -> str:
        with self._lock:
            secrets = self._secrets
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
        return text


class MaskingFormatter(logging.Formatter):
    def __init__(self, masker: SecretMasker, fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self.masker = masker

    def format(self, record: logging.LogRecord) -> str:
        return self.masker.mask(super().format(record))


def setup_logging(
    log_dir: Path,
    masker: SecretMasker,
    *,
    console: bool = True,
    level: int = logging.INFO,
) -> Path:
    """Install the rotating file handler (and a console one when there is a console)."""
    _fix_missing_streams()
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / LOG_FILE
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_plexsync", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    _chmod_quietly(path, 0o600)
    handlers: list[logging.Handler] = [file_handler]
    if console and sys.stderr is not None:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(MaskingFormatter(masker))
        handler._plexsync = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return path


def _fix_missing_streams() -> None:
    """A Windows gui-script runs without a console: stdout/stderr are None there."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, Path(os.devnull).open("w", encoding="utf-8"))  # noqa: SIM115


def _chmod_quietly(path: Path, mode: int) -> None:
    try:
        path.chmod(mode)
    except OSError:
        pass


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
