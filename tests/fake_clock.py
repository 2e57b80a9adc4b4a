"""Test doubles shared by the tiers: a clock the test moves by hand."""

from __future__ import annotations


class FakeClock:
    """Wall and monotonic time that only move when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._mono = 1000.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._mono += seconds

    def suspend(self, seconds: float) -> None:
        """The machine sleeps: the wall clock moves, the monotonic clock (as on Linux) does not."""
        self._now += seconds

    def sleep(self, seconds: float) -> None:
        """Used where the engine expects a sleep: time passes at once."""
        self.advance(max(0.0, seconds))
