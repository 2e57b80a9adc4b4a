"""A metadata agent for the Plex simulator: what Plex does to a new item after creating it.

Real PMS announces a new item at timeline state 0, then its agent matches (2), downloads (3) and
processes (4) metadata, writes it over the item and reports state 5 (python-plexapi
`plexapi/alert.py`). A client that wrote to the item before state 5 loses that write. Here the
agent writes its own title, summary and genres over a new item when it processes it, locked or
not (see docs/design.md, "Where the simulators knowingly differ"); `pause()` holds processing
until `resume()`, so a test can write in between. Each batch runs on its own thread, and a
scan's `ended` activity is sent once its items are processed (`then`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from plexsync_sim.catalog import title_from_path
from plexsync_sim.plex.library import PlexLibrary
from plexsync_sim.plex.notifications import PlexNotifier

logger = logging.getLogger(__name__)

AGENT_STATES = (2, 3, 4)  # matching, downloading, processing
GATE_TIMEOUT = 30.0  # a paused agent that is never resumed processes anyway
AGENT_SUMMARY = "Summary from the metadata agent."
AGENT_GENRES = ["Agent Genre"]


def agent_title(title: str) -> str:
    """The title the agent matched for an item first titled `title` (from its file name)."""
    return f"{title} (agent match)"


class PlexAgent:
    """Processes new items (states 2, 3, 4, then its metadata, then 5) on a thread per batch."""

    def __init__(self, library: PlexLibrary, notifier: PlexNotifier) -> None:
        self._library = library
        self._notifier = notifier
        self._go = threading.Event()
        self._go.set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.processed: list[int] = []  # rating keys, in the order they reached state 5

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def process(self, rating_keys: list[int], then: Callable[[], None] | None = None) -> None:
        """Process these new items (already announced at state 0), then call `then`."""
        thread = threading.Thread(
            target=self._run, args=(list(rating_keys), then), name="sim-plex-agent", daemon=True
        )
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def join(self, timeout: float = 5.0) -> None:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _run(self, rating_keys: list[int], then: Callable[[], None] | None) -> None:
        self._go.wait(GATE_TIMEOUT)
        for state in AGENT_STATES:
            self._notifier.items_changed(self._items(rating_keys), created=False, state=state)
        for rating_key in rating_keys:
            self._write(rating_key)
        self._notifier.items_changed(self._items(rating_keys), created=False)  # state 5
        with self._lock:
            self.processed.extend(rating_keys)
        if then is not None:
            then()

    def _write(self, rating_key: int) -> None:
        """The agent's metadata over the item: whatever was written before is gone."""
        lib = self._library
        with lib.lock:
            if lib.get(rating_key) is None:
                return
            movie = lib.mutable(rating_key)
            movie.fields["title"] = agent_title(title_from_path(movie.file.replace("\\", "/")))
            movie.fields["summary"] = AGENT_SUMMARY
            movie.tags["genre"] = list(AGENT_GENRES)
            movie.updated_at = max(lib.now(), movie.updated_at)
        logger.info("agent processed item %d", rating_key)

    def _items(self, rating_keys: list[int]) -> list[tuple[int, str, int]]:
        lib = self._library
        with lib.lock:
            return [
                (rk, lib.field_value(rk, "title"), lib.updated_at(rk))
                for rk in rating_keys
                if lib.get(rk) is not None
            ]
