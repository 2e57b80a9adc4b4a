"""Stash's updated_at text: offsets, watermarks, and where the next keyset page starts.

Stash compares these timestamps as text (its SQL filters on the stored string), so every value
we send back must keep the format and offset Stash wrote it in."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from engine.stash.scene import PageQuery


def watermark_minus(watermark: str, seconds: float) -> str:
    """The watermark moved back by `seconds`, written in the same offset as Stash wrote it.

    Stash compares these timestamps as text, so the query value must keep Stash's own format.
    """
    text = watermark.strip()
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    earlier = parsed - dt.timedelta(seconds=seconds)
    if parsed.tzinfo is None:
        return earlier.isoformat(timespec="seconds")
    result = earlier.isoformat(timespec="seconds")
    return result.replace("+00:00", "Z") if text.endswith("Z") else result


def offset_of(timestamp: str) -> str:
    """The UTC offset a Stash timestamp was written in ("Z", "+02:00", or "" if none)."""
    text = timestamp.strip()
    if text.endswith("Z"):
        return "Z"
    return text[-6:] if len(text) > 6 and text[-6] in "+-" and text[-3] == ":" else ""


def in_offset_of(timestamp: str, like: str) -> str:
    """The instant of `timestamp` written in the offset `like` was written in."""
    moment = dt.datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    other = dt.datetime.fromisoformat(like.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None or other.tzinfo is None:
        return timestamp
    result = moment.astimezone(other.tzinfo).isoformat(timespec="seconds")
    return result.replace("+00:00", "Z") if offset_of(like) == "Z" else result


def next_query(
    query: PageQuery, rows: int, keys: list[tuple[str, str]], *, by_id: bool
) -> PageQuery | None:
    """Where the next page starts, or None when this page reached the newest change."""
    full = rows >= query.size
    if query.group_after_id is not None:
        ids = [int(i) for i, _ in keys if i.isdigit()]
        if by_id and full and ids:
            return replace(query, group_after_id=max(ids))
        # The timestamp is read through; go on with what is newer.
        return replace(query, inclusive=False, group_after_id=None)
    if not full or not keys:
        return None
    oldest, newest = keys[0][1], keys[-1][1]
    if oldest == newest:
        # A whole page of one timestamp: read that timestamp by id, from the start.
        return replace(query, after=newest, inclusive=False, group_after_id=0)
    # Timestamps before `newest` are complete; `newest` may continue on the next page.
    return replace(query, after=newest, inclusive=True, group_after_id=None)
