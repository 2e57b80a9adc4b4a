"""Helpers for live-update tests: bounded real-time waits for conditions set by other threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fake_clock import FakeClock

from engine.sync.engine import SyncEngine

WAIT = 10.0  # an upper bound for a condition to hold, never a measured time
STEP = 0.02  # fake seconds per tick in `drive_until`


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


def drive_until(
    engine: SyncEngine,
    clock: FakeClock,
    condition: Callable[[], bool],
    *,
    fake_seconds: float,
    timeout: float = WAIT,
) -> bool:
    """Tick while fake time passes in small steps, until `condition` holds or `fake_seconds`
    pass; a little real time passes too, for what the streams deliver meanwhile."""
    end = clock.now() + fake_seconds
    deadline = time.monotonic() + timeout
    while clock.now() < end and time.monotonic() < deadline:
        engine.tick(budget=5.0)
        if condition():
            return True
        clock.advance(STEP)
        time.sleep(0.01)
    return condition()
