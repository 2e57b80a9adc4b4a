"""What the tray says about an engine snapshot: the state to draw and the words to show.

Pure functions of an `EngineStatus` and the current time, so they are tested without Qt.
`tray_state()` is the one place that turns Plex's breaker, Stash's health and the engine's own
health into the icon's state; the tray, the fallback window and the status window's header all
use it. The words never depend on colour alone, and every message names the service it is about.
Every word goes through Qt's translation functions (context "Presentation"); QtCore's translate
needs no application object, so these stay plain functions.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from PySide6.QtCore import QCoreApplication

from engine.breaker import CircuitState
from engine.events import EngineStatus, ServiceHealth
from gui import timefmt
from gui.translations import translate_n

APP_TITLE = "PlexSync Tray"  # a name: never translated
CONTEXT = "Presentation"


def tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


class TrayState(StrEnum):
    """What the icon shows: Plex's breaker, Stash's health, the engine's health, and the
    reasons not to sync at all."""

    CLOSED = "closed"
    HALF_OPEN = "half_open"  # also a reset or retry waiting for Plex's answer
    OPEN = "open"
    PAUSED = "paused"
    UNCONFIGURED = "unconfigured"
    AUTH_FAILED = "auth_failed"
    STASH_PROBLEM = "stash_problem"  # Stash unreachable or answering with errors
    ENGINE_ERROR = "engine_error"  # the engine itself is broken: nothing syncs


# Translated when shown (state_words), so a translator loaded after import still applies.
STATE_WORDS: dict[TrayState, str] = {
    TrayState.CLOSED: "Plex is in step",
    TrayState.HALF_OPEN: "Checking whether Plex is back",
    TrayState.OPEN: "Plex is unreachable",
    TrayState.PAUSED: "Syncing is paused",
    TrayState.UNCONFIGURED: "Not set up yet",
    TrayState.AUTH_FAILED: "A sign-in was rejected",
    TrayState.STASH_PROBLEM: "Stash is unreachable",
    TrayState.ENGINE_ERROR: "The sync engine has stopped working",
}

SERVICE_NAMES = {"plex": "Plex", "stash": "Stash"}
MENU_TEXT_LIMIT = 70


def state_words(state: TrayState) -> str:
    return tr(STATE_WORDS[state])


def tray_state(status: EngineStatus | None) -> TrayState:
    """The one state the icon shows; what stops everything wins, then what the user must fix."""
    if status is not None and status.engine_error:
        return TrayState.ENGINE_ERROR
    if status is None or not status.configured:
        return TrayState.UNCONFIGURED
    if status.auth_error:
        return TrayState.AUTH_FAILED
    if status.paused:
        return TrayState.PAUSED
    breaker = CircuitState(status.breaker_state)
    if breaker is CircuitState.OPEN:
        return TrayState.OPEN
    if breaker is CircuitState.HALF_OPEN or status.plex_checking:
        return TrayState.HALF_OPEN
    if stash_problem(status):
        return TrayState.STASH_PROBLEM
    return TrayState.CLOSED


def stash_problem(status: EngineStatus) -> bool:
    return status.stash_health in (ServiceHealth.UNREACHABLE, ServiceHealth.ERROR)


def auth_service_name(status: EngineStatus | None) -> str:
    """`Plex` or `Stash`: whose sign-in was rejected (Plex when the engine did not say)."""
    service = status.auth_service if status is not None else None
    return SERVICE_NAMES.get(service or "plex", "Plex")


def fix_sign_in_label(status: EngineStatus | None) -> str:
    if auth_service_name(status) == "Stash":
        return tr("&Fix the Stash sign-in…")
    return tr("&Fix the Plex sign-in…")


def stash_words(status: EngineStatus) -> str:
    """Stash's health in words, always naming Stash."""
    if status.stash_health is ServiceHealth.UNREACHABLE:
        words = tr("Stash is unreachable")
    elif status.stash_health is ServiceHealth.ERROR:
        words = tr("Stash answered with an error")
    elif status.stash_health is ServiceHealth.AUTH_FAILED:
        words = tr("Stash rejected the API key")
    elif status.stash_health is ServiceHealth.OK:
        return tr("Stash: connected")
    else:
        return tr("Stash: not contacted yet")
    detail = status.stash_error  # the engine's words, not translated here
    if not detail:
        return words
    if detail.startswith("Stash"):
        return detail
    return tr("%1: %2").replace("%1", words).replace("%2", detail)


def with_engine_error(status: EngineStatus | None, message: str) -> EngineStatus:
    """`status` (or an empty snapshot) marked as broken: for a host whose engine failed."""
    base = status or EngineStatus.empty()
    return dataclasses.replace(base, engine_error=message)


def format_duration(seconds: float) -> str:
    """`45 s`, `2 m 13 s`, `1 h 05 m`: short, and precise where it matters."""
    total = max(0, round(seconds))
    if total < 60:
        return tr("%1 s").replace("%1", str(total))
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return tr("%1 m %2 s").replace("%1", str(minutes)).replace("%2", f"{secs:02d}")
    hours, minutes = divmod(minutes, 60)
    return tr("%1 h %2 m").replace("%1", str(hours)).replace("%2", f"{minutes:02d}")


def format_clock(epoch: float, now: float) -> str:
    """A local time in the one style the whole app uses (see gui/timefmt.py)."""
    return timefmt.format_clock(epoch, now)


def failed_scenes(count: int) -> str:
    """The plain words for dead-letter entries: `1 failed scene`, `3 failed scenes`."""
    return translate_n(CONTEXT, "1 failed scene", "%n failed scenes", count)


def dlq_menu_label(count: int) -> str:
    return tr("Fa&iled scenes (%1)…").replace("%1", f"{count:,}")


def dlq_explained() -> str:
    return tr("Scenes that failed after every retry (the dead-letter queue)")


def status_line(status: EngineStatus | None, now: float) -> str:
    """One line: the state in words, with the countdown or the reason where there is one."""
    state = tray_state(status)
    words = state_words(state)
    if status is None:
        return words
    if state is TrayState.OPEN:
        if status.retry_at is None:
            return words
        left = status.retry_at - now
        if left <= 0:
            return tr("Plex is unreachable, trying again now")
        return tr("Plex is unreachable, retrying in %1").replace("%1", format_duration(left))
    if state is TrayState.PAUSED:
        if status.paused_until is None:
            return tr("Syncing is paused until restart")
        until = format_clock(status.paused_until, now)
        return tr("Syncing is paused until %1").replace("%1", until)
    if state is TrayState.AUTH_FAILED and status.auth_error:
        name = auth_service_name(status)
        text = status.auth_error
        return (
            text if text.startswith(name) else tr("%1: %2").replace("%1", name).replace("%2", text)
        )
    if state is TrayState.HALF_OPEN and status.breaker_state is CircuitState.CLOSED:
        return tr("Checking Plex…")  # a reset: closed, but no real answer yet
    if state is TrayState.STASH_PROBLEM:
        return stash_words(status)
    if state is TrayState.CLOSED and status.progress is not None:
        progress = status.progress
        done, total = str(progress.done), str(progress.total)
        line = tr("Syncing %1 of %2").replace("%1", done).replace("%2", total)
        if status.first_sync:  # the engine's plan, said before its first write
            line = tr("%1 (%2)").replace("%1", line).replace("%2", status.first_sync)
        return line
    return words


def counts_line(status: EngineStatus | None) -> str | None:
    """`3 queued · 2 failed scenes`, or None when there is nothing to count."""
    if status is None:
        return None
    parts = []
    queued = status.pending + status.in_progress + status.waiting
    if queued:
        parts.append(translate_n(CONTEXT, "1 queued", "%n queued", queued))
    if status.dlq:
        parts.append(failed_scenes(status.dlq))
    return " · ".join(parts) or None


def last_sync_line(status: EngineStatus | None, now: float) -> str:
    """`Last sync: 09:12 · checked 14:30`: the check shows that an idle app is awake."""
    synced = (
        tr("never")
        if status is None or status.last_sync_at is None
        else (format_clock(status.last_sync_at, now))
    )
    checked = None if status is None else status.last_checked_at
    if checked is None:
        return tr("Last sync: %1").replace("%1", synced)
    line = tr("Last sync: %1 · checked %2").replace("%1", synced)
    return line.replace("%2", format_clock(checked, now))


def other_problems(status: EngineStatus | None) -> list[str]:
    """Problems the headline does not already name (each naming its service), or what to do
    when the engine is broken; for the tooltip and the menu."""
    state = tray_state(status)
    if status is None:
        return []
    if state is TrayState.ENGINE_ERROR:
        return [
            status.engine_error or "",
            tr("Nothing syncs now. Quit and start PlexSync Tray again; the log has details."),
        ]
    problems = []
    if state not in (TrayState.STASH_PROBLEM, TrayState.UNCONFIGURED) and stash_problem(status):
        problems.append(stash_words(status))
    if status.live_error and state is not TrayState.UNCONFIGURED:
        problems.append(live_words(status.live_error))
    return problems


def live_words(detail: str) -> str:
    """A live-update stream is off: say which and why (the engine's words), and that polling
    still carries every change, only later."""
    words = tr("Live updates are off (%1); changes arrive with the next poll")
    return words.replace("%1", detail)


def advice(status: EngineStatus | None) -> str | None:
    """What the user can do about the state, where the menu's entries do not already say it."""
    state = tray_state(status)
    if state is TrayState.AUTH_FAILED:
        if auth_service_name(status) == "Stash":
            return tr("Check the Stash sign-in in Settings.")
        return tr("Check the Plex sign-in in Settings.")
    if state is TrayState.STASH_PROBLEM:
        return tr("Changes in Stash are picked up once Stash answers again.")
    return None


def short(text: str, limit: int = MENU_TEXT_LIMIT) -> str:
    """`text` cut to `limit` characters with an ellipsis (menu entries stay one short line)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def tooltip_text(status: EngineStatus | None, now: float) -> str:
    """The tray tooltip: name, state with countdown, other problems, counts, last sync."""
    lines = [APP_TITLE, status_line(status, now), *other_problems(status)]
    hint = advice(status)
    if hint:
        lines.append(hint)
    counts = counts_line(status)
    if counts:
        lines.append(counts)
    if status is not None and status.configured and not status.engine_error:
        lines.append(last_sync_line(status, now))
    return "\n".join(lines)


def needs_countdown(status: EngineStatus | None) -> bool:
    """Whether the words change with time alone (an open breaker's countdown)."""
    return (
        tray_state(status) is TrayState.OPEN and status is not None and status.retry_at is not None
    )
