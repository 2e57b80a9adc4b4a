"""Helpers for live-update tests: bounded real-time waits for conditions set by other threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

WAIT = 10.0  # an upper bound for a condition to hold, never a measured time


def wait_for(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll `condition` until it holds or `timeout` real seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class Woken:
    """Counts engine wake-ups (a live signal queues a command, which wakes the host)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.count += 1
