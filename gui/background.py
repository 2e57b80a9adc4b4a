"""Run a blocking call off the UI thread and hand `(result, error)` back to a callback.

The callback is expected to emit a signal of a GUI-thread QObject, which Qt queues back to the
GUI thread. Tests pass `run_inline` instead, which calls everything synchronously.
`wait_off_thread` runs a call on a worker and keeps handling events until it returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal

logger = logging.getLogger(__name__)

Deliver = Callable[[Any, BaseException | None], None]
Runner = Callable[[Callable[[], Any], Deliver], None]
T = TypeVar("T")


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


class _Finished(QObject):
    """Lives on the GUI thread; its signal, emitted by the worker, is queued back to it."""

    finished = Signal()


def wait_off_thread(fn: Callable[[], T]) -> T:
    """`fn()` on a worker thread while the GUI's events keep being handled; its result, or its
    exception raised here.

    For keyring calls (issue 22): each is bounded by the keyring's own time-out
    (`engine.config.secret_store.KEYRING_TIMEOUT`), and the code that needs the answer (start, save)
    stays in order. Windows keep repainting and timers keep firing meanwhile; a caller that
    can be re-entered by a click disables that control while it waits.
    """
    answer: list[T] = []
    failure: list[BaseException] = []
    done = _Finished()
    loop = QEventLoop()
    done.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)

    def work() -> None:
        try:
            answer.append(fn())
        except BaseException as exc:  # raised again on the GUI thread below
            failure.append(exc)
        finally:
            done.finished.emit()

    threading.Thread(target=work, name="plexsync-keyring-wait", daemon=True).start()
    loop.exec()
    if failure:
        raise failure[0]
    return answer[0]
