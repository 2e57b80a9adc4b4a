"""What the live-update streams read: Plex notifications and Stash job updates, parsed leniently.

Pure functions, no I/O. A message we cannot read is skipped (`None`), never an error: a server
version with other fields must not break syncing, and polling stays the backstop.

- Plex (`/:/websockets/notifications`; what python-plexapi's AlertListener reads, `plexapi/
  alert.py`): JSON `{"NotificationContainer": {"type": ..., <List>: [...]}}`. New items show as
  `timeline` entries of the library (`identifier` "com.plexapp.plugins.library") with `state` 0
  and `metadataState` "created" (Tautulli's activity handler reads new items this way); a finished
  scan shows as an `activity` notification with `event` "ended" and `Activity.type`
  "library.update.section". Both mean: Plex may now have files it lacked.
- Stash (`jobsSubscribe: JobStatusUpdate!`, stashapp/stash `graphql/schema/types/job.graphql`):
  a job that ended arrives as `type` REMOVE (`pkg/job/manager.go` `removeJob`; finished jobs are
  never sent as UPDATE). Any job that ended may have edited scenes (Identify, Scan, Auto Tag,
  stash-box batches), so each one means: poll now.

`plex_news` reads the same Plex messages for what the write of a new item waits on: each library
timeline entry's item, section and `state`, and the sections whose scan ended. The states, as
python-plexapi documents them (`plexapi/alert.py`, AlertListener): 0 created, 1 progress (the
last state when the library has no agent), 2 matching, 3 downloading, 4 processing, 5 processed,
9 deleted. Tautulli acts on a new item only at state 5 (`plexpy/activity_handler.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

LIBRARY = "com.plexapp.plugins.library"
SCAN_ACTIVITY = "library.update.section"
STATE_CREATED = 0
STATE_PROGRESS = 1  # processing progress; with no agent, processing ends here
STATE_PROCESSED = 5
STATE_DELETED = 9


class LiveSignal(Enum):
    STASH_JOB_ENDED = "a Stash job ended"
    PLEX_ITEMS_ADDED = "Plex added items"


@dataclass(frozen=True)
class ItemState:
    """One library timeline entry: Plex item `item` of section `section` reached `state`."""

    item: str
    section: str
    state: int


@dataclass(frozen=True)
class PlexNews:
    """What a Plex message says about items being processed (see the module docstring)."""

    states: tuple[ItemState, ...] = ()
    scans_ended: tuple[str, ...] = ()  # section ids


LiveEvent = LiveSignal | PlexNews  # what a stream hands to the engine


class MalformedMessageError(ValueError):
    """A message that breaks the websocket protocol itself (not just an unknown payload)."""


def could_matter(text: str | bytes) -> bool:
    """False for a Plex message that cannot be a timeline or activity notification: the cheap
    path for the other types a busy server sends many of (`playing`, `status`, `progress`,
    `transcodeSession.update`, …), skipped without parsing. Conservative: a message that
    mentions either word anywhere is parsed."""
    if isinstance(text, bytes):
        return b"timeline" in text or b"activity" in text
    return "timeline" in text or "activity" in text


def plex_events(text: str | bytes) -> tuple[PlexNews | None, LiveSignal | None]:
    """`plex_news` and `plex_signal` of one message, parsed once (and not at all when it
    cannot matter)."""
    if not could_matter(text):
        return None, None
    try:
        container = _json(text).get("NotificationContainer")
    except MalformedMessageError:
        return None, None
    if not isinstance(container, dict):
        return None, None
    return _news(container), _signal(container)


def plex_signal(text: str | bytes) -> LiveSignal | None:
    """PLEX_ITEMS_ADDED for a new library item or a finished scan; None for anything else."""
    return plex_events(text)[1]


def plex_news(text: str | bytes) -> PlexNews | None:
    """The item states and ended scans in a Plex message; None when it has neither."""
    return plex_events(text)[0]


def _signal(container: dict[str, Any]) -> LiveSignal | None:
    kind = container.get("type")
    if kind == "timeline":
        entries = _dicts(container.get("TimelineEntry"))
        if any(_is_new_item(entry) for entry in entries):
            return LiveSignal.PLEX_ITEMS_ADDED
    elif kind == "activity":
        notes = _dicts(container.get("ActivityNotification"))
        if any(_is_scan_end(note) for note in notes):
            return LiveSignal.PLEX_ITEMS_ADDED
    return None


def _news(container: dict[str, Any]) -> PlexNews | None:
    states: list[ItemState] = []
    ended: list[str] = []
    if container.get("type") == "timeline":
        for entry in _dicts(container.get("TimelineEntry")):
            state, item = entry.get("state"), entry.get("itemID")
            if entry.get("identifier", LIBRARY) != LIBRARY or item is None:
                continue
            if isinstance(state, int) and not isinstance(state, bool):
                states.append(ItemState(str(item), str(entry.get("sectionID", "")), state))
    elif container.get("type") == "activity":
        for note in _dicts(container.get("ActivityNotification")):
            if _is_scan_end(note):
                context = note["Activity"].get("Context")
                section = context.get("librarySectionID") if isinstance(context, dict) else None
                ended.append("" if section is None else str(section))
    if not states and not ended:
        return None
    return PlexNews(tuple(states), tuple(ended))


def _is_new_item(entry: dict[str, Any]) -> bool:
    if entry.get("identifier", LIBRARY) != LIBRARY:
        return False
    state = entry.get("state")
    return (state == STATE_CREATED and not isinstance(state, bool)) or (
        entry.get("metadataState") == "created"
    )


def _is_scan_end(note: dict[str, Any]) -> bool:
    activity = note.get("Activity")
    return (
        note.get("event") == "ended"
        and isinstance(activity, dict)
        and activity.get("type") == SCAN_ACTIVITY
    )


def stash_signal(payload: object) -> LiveSignal | None:
    """STASH_JOB_ENDED for a `jobsSubscribe` result saying a job was removed (it ended)."""
    if not isinstance(payload, dict):
        return None
    data = payload.get("data")
    update = data.get("jobsSubscribe") if isinstance(data, dict) else None
    if isinstance(update, dict) and update.get("type") == "REMOVE":
        return LiveSignal.STASH_JOB_ENDED
    return None


_STASH_WORDS = ("REMOVE", '"ping"', '"complete"', '"error"')


def stash_could_matter(text: str | bytes) -> bool:
    """False for a Stash message that is surely a job update other than REMOVE (ADD, UPDATE:
    progress, thousands a minute during a big scan), skipped without parsing. Anything that
    mentions REMOVE, ping, complete or error anywhere is parsed, so nothing that matters is
    lost; a message with none of them changes nothing (`stash_signal`, `live_stash._handle`)."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return any(word in words for word in _STASH_WORDS) or '"next"' not in words


@dataclass(frozen=True)
class WsMessage:
    """One graphql-transport-ws message: `type`, and `id`/`payload` when present."""

    type: str
    id: str | None
    payload: Any


def graphql_ws_message(text: str | bytes) -> WsMessage:
    """Parse a graphql-transport-ws message; raises MalformedMessageError if it is not one."""
    message = _json(text)
    kind = message.get("type")
    if not isinstance(kind, str):
        raise MalformedMessageError("a graphql-transport-ws message without a type")
    op_id = message.get("id")
    return WsMessage(kind, op_id if isinstance(op_id, str) else None, message.get("payload"))


def _json(text: str | bytes) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedMessageError("not JSON") from exc
    except RecursionError as exc:
        # `json.loads` recurses once per nesting level: `[[[[…` a megabyte deep raises this
        # (CPython's json decoder, `Modules/_json.c` `Py_EnterRecursiveCall`), not ValueError.
        raise MalformedMessageError("JSON nested too deeply") from exc
    if not isinstance(value, dict):
        raise MalformedMessageError("not a JSON object")
    return value


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
