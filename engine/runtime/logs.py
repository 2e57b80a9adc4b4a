"""Logging for both front ends: a rotating file in the log dir and stderr, masked alike.

The engine's modules only log; the tray (`gui.launcher`) and `plexsync` call `setup_logging`
once, which also installs the masking excepthooks (`engine.excepthooks`).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from engine.excepthooks import install_excepthooks
from engine.masking import MaskingFormatter, SecretMasker

TRAY_LOG_FILE = "plexsync-tray.log"
CLI_LOG_FILE = "plexsync.log"  # `plexsync run`: its own file, so two processes never rotate one
COMMANDS_LOG_FILE = "plexsync-commands.log"  # the other commands that change something
MAX_BYTES = 1_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"
CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(
    log_dir: Path | None,
    masker: SecretMasker,
    *,
    console: bool = True,
    level: int = logging.INFO,
    file_name: str = TRAY_LOG_FILE,
    console_level: int | None = None,
) -> Path | None:
    """Install masked handlers: a rotating file (unless `log_dir` is None) and stderr (from
    `console_level` up, when given: a one-shot command keeps its terminal quiet)."""
    _fix_missing_streams()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_plexsync", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[tuple[logging.Handler, str]] = []
    path = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = log_dir / file_name
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
        _chmod_quietly(path, 0o600)
        handlers.append((file_handler, FORMAT))
    if console and sys.stderr is not None:
        stream = logging.StreamHandler(sys.stderr)
        if console_level is not None:
            stream.setLevel(console_level)
        handlers.append((stream, CONSOLE_FORMAT))
    for handler, fmt in handlers:
        handler.setFormatter(MaskingFormatter(masker, fmt))
        handler._plexsync = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    install_excepthooks(masker)  # an uncaught traceback is masked like any log line
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
