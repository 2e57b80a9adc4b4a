"""Commands from other threads, run on the engine's thread at the start of its next tick."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class CommandQueue:
    """Thread-safe hand-over of work to the engine thread, with wake-up callbacks for hosts."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake_callbacks: list[Callable[[], None]] = []

    def add_wake_callback(self, callback: Callable[[], None]) -> None:
        """`callback()` runs on the submitting thread, so a host can tick at once."""
        self._wake_callbacks.append(callback)

    def wake(self) -> None:
        for callback in list(self._wake_callbacks):
            callback()

    def submit(self, command: Callable[[], None]) -> None:
        self._queue.put(command)
        self.wake()

    def execute(self, command: Callable[[], T]) -> Future[T]:
        """Queue `command`; the future holds its result once the engine thread ran it."""
        future: Future[T] = Future()

        def run() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(command())
                except BaseException as exc:
                    future.set_exception(exc)

        self.submit(run)
        return future

    def run_pending(self) -> None:
        """Run everything queued so far (engine thread); a failing command is logged, not fatal."""
        while True:
            try:
                command = self._queue.get_nowait()
            except queue.Empty:
                return
            try:
                command()
            except Exception:
                logger.exception("A command failed")
