"""Writes to a new Plex item wait until Plex has processed it, so its agent cannot undo them.

Plex announces a new item at timeline state 0 (created); its agent then matches (2), downloads
(3) and processes (4) metadata and writes it over the item, and the item is done at state 5
(python-plexapi `plexapi/alert.py`; Tautulli acts on new items only at state 5, `plexpy/
activity_handler.py`). What we wrote before then is overwritten. So a job whose item is still
being processed is held, without using an attempt, until the first of:

- state 5 (processed) or 9 (deleted) for the item;
- the end of its section's scan (activity `library.update.section`, event `ended`);
- state 1 with no agent state (2-4) seen and nothing after it for `grace` seconds: with no agent,
  processing ends at state 1, but with one, 1 only reports progress (plexapi's docstring);
- `timeout` seconds after state 0: a missed message must not hold a scene for ever.

Only items we saw created are tracked, and each for at most `timeout`; the clock is injected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from engine.clock import Clock
from engine.live.messages import (
    STATE_CREATED,
    STATE_DELETED,
    STATE_PROCESSED,
    STATE_PROGRESS,
    PlexNews,
)

logger = logging.getLogger(__name__)

PROCESSING_TIMEOUT = 120.0  # seconds after state 0 a write waits at most
NO_AGENT_GRACE = 5.0  # seconds after a state 1 with no agent at work: processing ended
AGENT_STATES = frozenset({2, 3, 4})
MAX_TRACKED = 20_000  # a scan of a huge folder: beyond this, new items are not held


@dataclass
class _Processing:
    section: str
    deadline: float  # monotonic
    agent: bool = False
    held: set[str] = field(default_factory=set)  # scene ids waiting for this item


class NewItemWatch:
    """Items Plex is processing, and the scenes whose writes wait for them (engine thread)."""

    def __init__(
        self,
        clock: Clock,
        *,
        timeout: float = PROCESSING_TIMEOUT,
        grace: float = NO_AGENT_GRACE,
    ) -> None:
        self._clock = clock
        self._timeout = timeout
        self._grace = grace
        self._items: dict[str, _Processing] = {}
        # No deadline is earlier than this: `due()`, called for every message and every tick,
        # is O(1) until one may have passed (a flood of 20,000 new items was quadratic).
        self._earliest = float("inf")

    def __len__(self) -> int:
        return len(self._items)

    def heard(self, news: PlexNews) -> list[str]:
        """Take in a Plex message; returns the held scenes whose items are done now."""
        now = self._clock.monotonic()
        released: list[str] = []
        for entry in news.states:
            known = self._items.get(entry.item)
            if entry.state == STATE_CREATED:
                if known is None and len(self._items) < MAX_TRACKED:
                    self._items[entry.item] = _Processing(entry.section, now + self._timeout)
                    self._earliest = min(self._earliest, now + self._timeout)
            elif known is None:
                continue
            elif entry.state in (STATE_PROCESSED, STATE_DELETED):
                released += self._done(entry.item)
            elif entry.state in AGENT_STATES:
                known.agent = True
            elif entry.state == STATE_PROGRESS and not known.agent:
                known.deadline = min(known.deadline, now + self._grace)
                self._earliest = min(self._earliest, known.deadline)
        for section in news.scans_ended:
            for item in [k for k, p in self._items.items() if section in ("", p.section)]:
                released += self._done(item)
        return released + self.due()

    def hold(self, rating_key: str, scene_id: str) -> float | None:
        """Seconds the scene's write must wait for its item, or None when it may go now."""
        processing = self._items.get(rating_key)
        if processing is None:
            return None
        left = processing.deadline - self._clock.monotonic()
        if left <= 0:
            self._items.pop(rating_key)
            return None
        if scene_id not in processing.held:
            logger.info("Scene %s waits until Plex has processed its new item", scene_id)
        processing.held.add(scene_id)
        return left

    def due(self) -> list[str]:
        """Forget items past their deadline; returns the scenes that were waiting for them."""
        now = self._clock.monotonic()
        if now < self._earliest:
            return []
        late = [key for key, p in self._items.items() if p.deadline <= now]
        released: list[str] = []
        for key in late:
            if self._items[key].held:
                logger.info("Plex did not report item %s processed in time; writing it now", key)
            released += self._done(key)
        self._earliest = min((p.deadline for p in self._items.values()), default=float("inf"))
        return released

    def next_due(self) -> float | None:
        """The monotonic time the next held scene may go (None when none is held)."""
        deadlines = [p.deadline for p in self._items.values() if p.held]
        return min(deadlines) if deadlines else None

    def _done(self, rating_key: str) -> list[str]:
        processing = self._items.pop(rating_key, None)
        return sorted(processing.held) if processing is not None else []
