"""What the tray says about an engine snapshot: the state to draw and the words to show.

Pure functions of an `EngineStatus` and the current time, so they are tested without Qt. The
words never depend on colour alone: every state has its own text, and an open breaker says when
it will try again.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from engine.breaker import CircuitState
from engine.events import EngineStatus

APP_TITLE = "PlexSync Tray"


class TrayState(StrEnum):
    """What the icon shows. Breaker states plus the three reasons not to sync at all."""

    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"
    PAUSED = "paused"
    UNCONFIGURED = "unconfigured"
    AUTH_FAILED = "auth_failed"


STATE_WORDS: dict[TrayState, str] = {
    TrayState.CLOSED: "Plex is in step",
    TrayState.HALF_OPEN: "Checking whether Plex is back",
    TrayState.OPEN: "Plex is unreachable",
    TrayState.PAUSED: "Syncing is paused",
    TrayState.UNCONFIGURED: "Not set up yet",
    TrayState.AUTH_FAILED: "Plex rejected the sign-in",
}


def tray_state(status: EngineStatus | None) -> TrayState:
    """The one state the icon shows; a problem the user must fix wins over the breaker."""
    if status is None or not status.configured:
        return TrayState.UNCONFIGURED
    if status.auth_error:
        return TrayState.AUTH_FAILED
    if status.paused:
        return TrayState.PAUSED
    return {
        CircuitState.CLOSED: TrayState.CLOSED,
        CircuitState.HALF_OPEN: TrayState.HALF_OPEN,
        CircuitState.OPEN: TrayState.OPEN,
    }[CircuitState(status.breaker_state)]


def format_duration(seconds: float) -> str:
    """`45 s`, `2 m 13 s`, `1 h 05 m`: short, and precise where it matters."""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} m {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m"


def format_clock(epoch: float, now: float) -> str:
    """A local time: `14:02` today, `3 Mar 14:02` on another day."""
    when = dt.datetime.fromtimestamp(epoch, tz=dt.UTC).astimezone()
    today = dt.datetime.fromtimestamp(now, tz=dt.UTC).astimezone()
    if when.date() == today.date():
        return when.strftime("%H:%M")
    return f"{when.day} {when.strftime('%b %H:%M')}"


def status_line(status: EngineStatus | None, now: float) -> str:
    """One line: the state in words, with the countdown or the reason where there is one."""
    state = tray_state(status)
    words = STATE_WORDS[state]
    if status is None:
        return words
    if state is TrayState.OPEN:
        if status.retry_at is None:
            return words
        left = status.retry_at - now
        if left <= 0:
            return f"{words}, trying again now"
        return f"{words}, retrying in {format_duration(left)}"
    if state is TrayState.PAUSED:
        if status.paused_until is None:
            return f"{words} until restart"
        return f"{words} until {format_clock(status.paused_until, now)}"
    if state is TrayState.AUTH_FAILED and status.auth_error:
        return status.auth_error
    if state is TrayState.CLOSED and status.progress is not None:
        progress = status.progress
        return f"Syncing {progress.done} of {progress.total}"
    return words


def counts_line(status: EngineStatus | None) -> str | None:
    """`3 waiting · 2 in the dead-letter queue`, or None when there is nothing to count."""
    if status is None:
        return None
    parts = []
    queued = status.pending + status.in_progress + status.waiting
    if queued:
        parts.append(f"{queued} queued")
    if status.dlq:
        parts.append(f"{status.dlq} in the dead-letter queue")
    return " · ".join(parts) or None


def last_sync_line(status: EngineStatus | None, now: float) -> str:
    if status is None or status.last_sync_at is None:
        return "Last sync: never"
    return f"Last sync: {format_clock(status.last_sync_at, now)}"


def tooltip_text(status: EngineStatus | None, now: float) -> str:
    """The tray tooltip: name, state with countdown, counts, last successful sync."""
    lines = [APP_TITLE, status_line(status, now)]
    counts = counts_line(status)
    if counts:
        lines.append(counts)
    if status is not None and status.configured:
        lines.append(last_sync_line(status, now))
    return "\n".join(lines)


def needs_countdown(status: EngineStatus | None) -> bool:
    """Whether the words change with time alone (an open breaker's countdown)."""
    return (
        tray_state(status) is TrayState.OPEN and status is not None and status.retry_at is not None
    )
