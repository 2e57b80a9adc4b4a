"""The circuit breaker of the seed plan, made configurable, observable and persistent.

CLOSED counts consecutive failures; at `failure_threshold` it opens. OPEN blocks until
`recovery_timeout` seconds have passed, then reads as HALF_OPEN by itself. HALF_OPEN lets trials
through; `success_threshold` successes close it, any failure reopens it with a fresh timeout.
Times are wall-clock seconds from the injected clock, so an OPEN breaker keeps its deadline across
a restart. The breaker never wraps the protected call, so no lock is held while it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


StateListener = Callable[["CircuitState", "CircuitState"], None]


class BreakerStorage(Protocol):
    """Where the breaker keeps its state between runs."""

    def load_breaker(self) -> dict[str, Any] | None: ...

    def save_breaker(self, data: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class BreakerSnapshot:
    state: CircuitState
    failure_count: int
    success_count: int
    opened_at: float | None
    retry_at: float | None


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 60.0,
        success_threshold: int = 1,
        *,
        clock: Callable[[], float] = time.time,
        storage: BreakerStorage | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._storage = storage
        self._listeners: list[StateListener] = []
        self.configure(failure_threshold, recovery_timeout, success_threshold)
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._successes = 0
        self._opened_at: float | None = None
        self._restore()

    def configure(
        self, failure_threshold: int, recovery_timeout: float, success_threshold: int
    ) -> None:
        """Change the knobs; an open breaker keeps its opening time and gets the new timeout."""
        if failure_threshold < 1 or success_threshold < 1 or recovery_timeout <= 0:
            raise ValueError("breaker thresholds must be >= 1 and the timeout > 0")
        with self._lock:
            self.failure_threshold = failure_threshold
            self.recovery_timeout = float(recovery_timeout)
            self.success_threshold = success_threshold

    # --- observation -------------------------------------------------------------------------

    def add_listener(self, listener: StateListener) -> None:
        """`listener(old, new)` is called on every transition, including OPEN -> HALF_OPEN."""
        self._listeners.append(listener)

    @property
    def state(self) -> CircuitState:
        """The current state; moves OPEN to HALF_OPEN once the recovery timeout has passed."""
        with self._lock:
            if self._state is CircuitState.OPEN and self._timeout_elapsed():
                self._transition(CircuitState.HALF_OPEN)
            return self._state

    @property
    def opened_at(self) -> float | None:
        return self._opened_at

    @property
    def retry_at(self) -> float | None:
        """When an open breaker will let a trial through (for a countdown), else None."""
        with self._lock:
            if self._state is not CircuitState.OPEN or self._opened_at is None:
                return None
            return self._opened_at + self.recovery_timeout

    @property
    def failure_count(self) -> int:
        return self._failures

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            state = self.state
            return BreakerSnapshot(
                state, self._failures, self._successes, self._opened_at, self.retry_at
            )

    # --- protocol ------------------------------------------------------------------------------

    def can_execute(self) -> bool:
        return self.state is not CircuitState.OPEN

    def record_success(self) -> None:
        with self._lock:
            state = self.state
            if state is CircuitState.HALF_OPEN:
                self._successes += 1
                if self._successes >= self.success_threshold:
                    self._close()
                else:
                    self._save()
            elif self._failures:
                self._failures = 0
                self._save()

    def record_failure(self) -> None:
        with self._lock:
            state = self.state
            if state is CircuitState.HALF_OPEN:
                self._open()
            elif state is CircuitState.CLOSED:
                self._failures += 1
                if self._failures >= self.failure_threshold:
                    self._open()
                else:
                    self._save()

    def reset(self) -> None:
        """Manual reset: CLOSED now, counters cleared."""
        with self._lock:
            self._close()

    def trip(self) -> None:
        """Open now (used when a probe proves the service is down outside normal counting)."""
        with self._lock:
            if self._state is not CircuitState.OPEN:
                self._open()

    def half_open_now(self) -> None:
        """ "Retry now": skip the rest of the wait and allow a trial at once."""
        with self._lock:
            if self._state is CircuitState.OPEN:
                self._transition(CircuitState.HALF_OPEN)

    # --- internals -----------------------------------------------------------------------------

    def _timeout_elapsed(self) -> bool:
        return self._opened_at is None or self._clock() >= self._opened_at + self.recovery_timeout

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._failures = 0
        self._successes = 0
        self._transition(CircuitState.OPEN)

    def _close(self) -> None:
        self._opened_at = None
        self._failures = 0
        self._successes = 0
        self._transition(CircuitState.CLOSED)

    def _transition(self, new: CircuitState) -> None:
        old = self._state
        self._state = new
        if new is CircuitState.HALF_OPEN:
            self._successes = 0
        self._save()
        if old is new:
            return
        logger.info("Circuit breaker %s -> %s", old.value, new.value)
        for listener in list(self._listeners):
            try:
                listener(old, new)
            except Exception:
                logger.exception("A circuit breaker listener failed")

    def _save(self) -> None:
        if self._storage is None:
            return
        data = {
            "state": self._state.value,
            "failure_count": self._failures,
            "success_count": self._successes,
            "opened_at": self._opened_at,
        }
        try:
            self._storage.save_breaker(data)
        except Exception:
            logger.exception("Could not persist the circuit breaker state")

    def _restore(self) -> None:
        if self._storage is None:
            return
        try:
            data = self._storage.load_breaker()
        except Exception:
            logger.warning("Stored circuit breaker state could not be read; starting CLOSED")
            return
        if data is None:
            return
        try:
            state = CircuitState(data["state"])
            failures = int(data.get("failure_count") or 0)
            successes = int(data.get("success_count") or 0)
            opened_raw = data.get("opened_at")
            opened_at = None if opened_raw is None else float(opened_raw)
            if state is not CircuitState.CLOSED and opened_at is None:
                raise ValueError("an open breaker without an opening time")
        except (KeyError, TypeError, ValueError):
            logger.warning("Stored circuit breaker state is damaged; starting CLOSED")
            return
        # Restored silently: no listener call, so no fake outage is recorded for a restart.
        self._state = state
        self._failures = max(0, failures)
        self._successes = max(0, successes)
        self._opened_at = opened_at
