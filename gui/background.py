"""Run a blocking call off the UI thread and hand `(result, error)` back to a callback.

The callback is expected to emit a signal of a GUI-thread QObject, which Qt queues back to the
GUI thread. Tests pass `run_inline` instead, which calls everything synchronously.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Deliver = Callable[[Any, BaseException | None], None]
Runner = Callable[[Callable[[], Any], Deliver], None]


def _call(fn: Callable[[], Any], deliver: Deliver) -> None:
    error: BaseException | None
    try:
        result: Any = fn()
    except Exception as exc:  # delivered to the caller, which shows it in plain words
        result, error = None, exc
    else:
        error = None
    try:
        deliver(result, error)
    except RuntimeError:  # the receiving widget was closed and deleted meanwhile
        logger.debug("A background result arrived after its window closed")


def run_in_thread(fn: Callable[[], Any], deliver: Deliver) -> None:
    """A daemon thread per call: connection tests are rare and bounded by their timeouts."""
    threading.Thread(target=_call, args=(fn, deliver), name="plexsync-test", daemon=True).start()


def run_inline(fn: Callable[[], Any], deliver: Deliver) -> None:
    _call(fn, deliver)
