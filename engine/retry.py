"""Retry policy: full-jitter exponential backoff with a budget per error class.

A job's `attempts` counts failed attempts that consumed budget. Outages (UNREACHABLE) never consume
budget and never dead-letter; AUTH pauses the engine instead of failing jobs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from engine.errors import ErrorClass

MAX_RETRY_AFTER = 3600.0  # a server asking for more than an hour is treated as asking for an hour


@dataclass(frozen=True)
class Backoff:
    """`uniform(0, min(cap, base * 2**retry_index))`; at most `max_attempts` failed attempts."""

    base: float
    cap: float
    max_attempts: int

    def window(self, retry_index: int) -> float:
        """The upper bound of the wait before retry number `retry_index` (0 = first retry)."""
        return min(self.cap, self.base * 2.0 ** min(retry_index, 32))


class Action(StrEnum):
    RETRY = "retry"  # back to the queue with not_before = now + delay, attempt counted
    HOLD = "hold"  # back to the queue, attempt not counted (outage; the breaker decides when)
    DEAD_LETTER = "dead_letter"
    PAUSE = "pause"  # authentication failed: keep the job, pause the engine
    DROP = "drop"  # not found under skip_not_found: drop with a logged reason


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: float = 0.0
    attempts: int = 0  # the job's attempt count after this decision


NOT_FOUND_BACKOFF = Backoff(base=30.0, cap=600.0, max_attempts=12)


def transient_backoff(max_retries: int) -> Backoff:
    """Transient errors: 5 s, 10 s, ... up to 80 s; `max_retries` retries after the first try."""
    return Backoff(base=5.0, cap=80.0, max_attempts=max_retries + 1)


class RetryPolicy:
    """Decides what happens to a job after a failure."""

    def __init__(
        self, *, max_retries: int = 5, skip_not_found: bool = False, rng: random.Random
    ) -> None:
        self.max_retries = max_retries
        self.skip_not_found = skip_not_found
        self._rng = rng

    def backoff_for(self, error_class: ErrorClass) -> Backoff | None:
        """The backoff table; None for classes that never retry by themselves."""
        if error_class is ErrorClass.TRANSIENT:
            return transient_backoff(self.max_retries)
        if error_class is ErrorClass.NOT_FOUND:
            return NOT_FOUND_BACKOFF
        return None

    def decide(
        self, error_class: ErrorClass, attempts: int, *, retry_after: float | None = None
    ) -> Decision:
        """What to do with a job that has already failed `attempts` times and just failed again."""
        if error_class is ErrorClass.UNREACHABLE:
            return Decision(Action.HOLD, attempts=attempts)
        if error_class is ErrorClass.AUTH:
            return Decision(Action.PAUSE, attempts=attempts)
        if error_class is ErrorClass.NOT_FOUND and self.skip_not_found:
            return Decision(Action.DROP, attempts=attempts + 1)
        backoff = self.backoff_for(error_class)
        failed = attempts + 1
        if backoff is None or failed >= backoff.max_attempts:
            return Decision(Action.DEAD_LETTER, attempts=failed)
        delay = self._rng.uniform(0.0, backoff.window(failed - 1))
        if retry_after is not None and retry_after >= 0:
            delay = min(float(retry_after), MAX_RETRY_AFTER)
        return Decision(Action.RETRY, delay=delay, attempts=failed)
