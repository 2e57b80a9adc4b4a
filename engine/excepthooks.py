"""Uncaught errors reach the log masked, never raw stderr: hooks for the main and other threads.

Python prints an uncaught error's traceback to stderr itself (`sys.excepthook`, and
`threading.excepthook` for a thread: the docs of `threading.excepthook`), with the exception's
text as it is, so a URL with `X-Plex-Token=…` in a message would be printed in clear. These
hooks format the traceback as Python would, mask it as the log does (`SecretMasker`), and log it
at ERROR through the configured handlers (or logging's last resort, on stderr, when none are).
`engine.runtime.logs.setup_logging` installs them, so the tray and `plexsync` both have them.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from engine.masking import SecretMasker

logger = logging.getLogger(__name__)


class MaskingExceptHooks:
    """`sys.excepthook` and `threading.excepthook` replacements that mask with `masker`."""

    def __init__(self, masker: SecretMasker) -> None:
        self.masker = masker

    def install(self) -> None:
        sys.excepthook = self.main_thread
        threading.excepthook = self.thread

    def main_thread(
        self,
        kind: type[BaseException],
        value: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)  # Ctrl+C: Python's own short words
            return
        self._log("Uncaught error", kind, value, tb)

    def thread(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:  # what Python's own hook does: silently ignore it
            return
        name = args.thread.name if args.thread is not None else "?"
        value = args.exc_value or args.exc_type()
        self._log(f"Uncaught error in thread {name}", args.exc_type, value, args.exc_traceback)

    def _log(
        self,
        title: str,
        kind: type[BaseException],
        value: BaseException,
        tb: TracebackType | None,
    ) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        logger.error("%s:\n%s", title, self.masker.mask(text.rstrip()))


def install_excepthooks(masker: SecretMasker) -> MaskingExceptHooks:
    hooks = MaskingExceptHooks(masker)
    hooks.install()
    return hooks
