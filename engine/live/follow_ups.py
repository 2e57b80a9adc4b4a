"""How much work live signals may cause, and what the engine knows of the streams themselves.

A signal costs nothing to send and may come by the hundred thousand (a scan, a proxy gone
wrong, a hostile server): what it asks for must not. So:

- `FollowUpLimiter`: each kind of follow-up (a Stash poll for a job that ended, a Plex listing
  for items added) runs at once for the first signal, then at most once per `gap` seconds,
  whatever arrives meanwhile; signals within the gap fold into one run at its end, so the last
  change is never lost. Engine thread only; the clock is injected.
- `NewsBuffer`: Plex's news of items being processed, taken in order by one engine command
  per tick however many messages came (bounded: beyond `limit` the oldest are dropped, which
  `live_processing`'s time-out covers, as it covers any missed message).
- `StreamStates`: which streams are off and why (any thread), for the engine's status.
"""

from __future__ import annotations

import threading
from collections import deque

from engine.clock import Clock
from engine.live.messages import LiveSignal, PlexNews

# Seconds between two follow-ups of one kind: one listing or one poll costs a few requests;
# one per 5 s keeps a flood's cost below a normal poll interval's (30 s) by design, while the
# first signal of a quiet spell is still acted on at once (live updates' point: seconds).
FOLLOW_UP_GAP = 5.0
NEWS_LIMIT = 10_000  # Plex messages waiting for the engine thread, at most (a stalled engine)


class FollowUpLimiter:
    """At most one follow-up of each kind per `gap` seconds (see the module docstring)."""

    def __init__(self, clock: Clock, *, gap: float = FOLLOW_UP_GAP) -> None:
        self._clock = clock
        self._gap = gap
        self._last: dict[LiveSignal, float] = {}  # monotonic time each kind last ran
        self._wanted: set[LiveSignal] = set()

    def want(self, kind: LiveSignal) -> None:
        self._wanted.add(kind)

    def take_due(self) -> list[LiveSignal]:
        """The kinds to run now (each marked as run)."""
        now = self._clock.monotonic()
        due = [kind for kind in self._wanted if now >= self._due_at(kind)]
        for kind in due:
            self._wanted.discard(kind)
            self._last[kind] = now
        return sorted(due, key=lambda kind: kind.name)

    def next_due(self) -> float | None:
        """The monotonic time the next folded follow-up runs (None when none waits)."""
        return min((self._due_at(kind) for kind in self._wanted), default=None)

    def _due_at(self, kind: LiveSignal) -> float:
        return self._last.get(kind, float("-inf")) + self._gap


class NewsBuffer:
    """Plex news in arrival order until the engine thread drains it (any thread offers)."""

    def __init__(self, *, limit: int = NEWS_LIMIT) -> None:
        self._lock = threading.Lock()
        self._items: deque[PlexNews] = deque(maxlen=limit)
        self._queued = False
        self.dropped = 0

    def offer(self, news: PlexNews) -> bool:
        """True when no drain is queued yet (the caller queues one)."""
        with self._lock:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(news)
            queue_one = not self._queued
            self._queued = True
            return queue_one

    def drain(self) -> list[PlexNews]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._queued = False
            return items


class StreamStates:
    """Each stream's reason for being off (absent when live or not configured)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._off: dict[str, str] = {}

    def set(self, name: str, reason: str | None) -> bool:
        """Record a stream's state; True when it changed."""
        with self._lock:
            before = self._off.get(name)
            if reason is None:
                self._off.pop(name, None)
            else:
                self._off[name] = reason
            return before != reason

    def summary(self) -> str | None:
        """`Plex: <why>; Stash: <why>` for the streams that are off, or None."""
        with self._lock:
            off = sorted(self._off.items())
        return "; ".join(f"{name}: {reason}" for name, reason in off) or None
