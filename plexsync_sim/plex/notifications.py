"""Plex's notification websocket (`/:/websockets/notifications`) for the Plex simulator.

What python-plexapi's AlertListener reads (pkkid/python-plexapi `plexapi/alert.py`: the URL is
`server.url(key, includeToken=True)` with http replaced by ws, so the token is the
`X-Plex-Token` query parameter; each text message is JSON whose `NotificationContainer` holds
`type` and a list named after it). Shapes follow what clients of the real server parse
(Tautulli's activity handler; jrudio/go-plex-client `websocket_client.go`):

- `timeline`: `TimelineEntry[]` with `identifier` "com.plexapp.plugins.library", `sectionID` and
  `itemID` (strings), `type` (1 = movie), `title`, `state` (0 created ... 5 processed, 9 deleted),
  `metadataState` ("created" for a new item), `updatedAt`.
- `activity`: `ActivityNotification[]` with `event` (started, updated, ended), `uuid` and
  `Activity` {`type` "library.update.section", `title`, `progress`, `Context`}.

The server only pushes; what a client sends is read and ignored.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from websockets.sync.connection import Connection

from plexsync_sim.ws_base import Hub, Upgrade

LIBRARY = "com.plexapp.plugins.library"
MOVIE_TYPE = 1
STATE_CREATED = 0
STATE_PROCESSED = 5


def container(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One notification message: `{"NotificationContainer": {type, size, <List>: items}}`."""
    names = {"timeline": "TimelineEntry", "activity": "ActivityNotification"}
    return {"NotificationContainer": {"type": kind, "size": len(items), names[kind]: items}}


class PlexNotifier:
    """Open notification sockets and the messages the simulator pushes to them."""

    def __init__(self, section_id: str, section_title: str) -> None:
        self.hub = Hub()
        self._section_id = section_id
        self._section_title = section_title

    def upgrade(self) -> Upgrade:
        return Upgrade(endpoint=self._serve)

    def _serve(self, connection: Connection) -> None:
        def deliver(message: object) -> None:
            connection.send(json.dumps(message))

        self.hub.add(deliver)
        try:
            for _ in connection:  # PMS ignores what a client sends; this ends when it closes
                pass
        finally:
            self.hub.remove(deliver)

    def items_changed(
        self, items: list[tuple[int, str, int]], *, created: bool, state: int = STATE_PROCESSED
    ) -> None:
        """Timeline entries for `(rating key, title, updatedAt)`; new items first as created."""
        if not items or not len(self.hub):
            return
        if created:
            self.hub.broadcast(container("timeline", self._entries(items, STATE_CREATED)))
        self.hub.broadcast(container("timeline", self._entries(items, state)))

    def items_created(self, items: list[tuple[int, str, int]]) -> None:
        """State 0 only: an agent (`plex_agent`) sends the states that follow."""
        if items and len(self.hub):
            self.hub.broadcast(container("timeline", self._entries(items, STATE_CREATED)))

    def _entries(self, items: list[tuple[int, str, int]], state: int) -> list[dict[str, Any]]:
        entries = []
        for rating_key, title, updated_at in items:
            entry: dict[str, Any] = {
                "identifier": LIBRARY,
                "sectionID": self._section_id,
                "itemID": str(rating_key),
                "type": MOVIE_TYPE,
                "title": title,
                "state": state,
                "updatedAt": updated_at,
            }
            if state == STATE_CREATED:
                entry["metadataState"] = "created"
            entries.append(entry)
        return entries

    def scan(self, event: str, activity_id: str) -> None:
        """A section scan's activity: `started`, then `ended` once its items are in."""
        progress = 100 if event == "ended" else 0
        activity = {
            "uuid": activity_id,
            "type": "library.update.section",
            "cancellable": False,
            "userID": 1,
            "title": f"Scanning {self._section_title}",
            "subtitle": "",
            "progress": progress,
            "Context": {"librarySectionID": self._section_id},
        }
        note = {"event": event, "uuid": activity_id, "Activity": activity}
        self.hub.broadcast(container("activity", [note]))

    @staticmethod
    def new_activity() -> str:
        return str(uuid.uuid4())
