"""The status window header's words for an engine snapshot: a state, a title and a detail line.

Pure functions of an `EngineStatus` and the time, so they are tested without widgets. Every word
goes through Qt's translation (context "StateHeader").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication

from engine.breaker import CircuitState
from engine.events import EngineStatus
from gui.presentation import TrayState, auth_service_name, other_problems, stash_words, tray_state
from gui.timefmt import format_clock, format_countdown

CONTEXT = "StateHeader"


def tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


class HeaderState(enum.Enum):
    """What the header shows, most important first when several apply."""

    UNKNOWN = "unknown"  # no status from the engine yet
    ENGINE_ERROR = "engine_error"
    UNCONFIGURED = "unconfigured"
    AUTH_FAILED = "auth_failed"
    PAUSED = "paused"
    STOPPED = "stopped"
    OPEN = "open"
    HALF_OPEN = "half_open"
    STASH_PROBLEM = "stash_problem"
    CLOSED = "closed"


# The badge's accessible name: a screen reader says the state the shape and colour show.
BADGE_NAMES = {
    HeaderState.UNKNOWN: "Waiting",
    HeaderState.ENGINE_ERROR: "Engine error",
    HeaderState.UNCONFIGURED: "Not set up",
    HeaderState.AUTH_FAILED: "Sign-in rejected",
    HeaderState.PAUSED: "Paused",
    HeaderState.STOPPED: "Stopped",
    HeaderState.OPEN: "Plex unreachable",
    HeaderState.HALF_OPEN: "Checking Plex",
    HeaderState.STASH_PROBLEM: "Stash problem",
    HeaderState.CLOSED: "In step",
}


def badge_name(state: HeaderState) -> str:
    return tr(BADGE_NAMES[state])


@dataclass(frozen=True)
class HeaderView:
    state: HeaderState
    title: str
    detail: str


def header_state(status: EngineStatus | None) -> HeaderState:
    """The tray's state (`gui.presentation.tray_state`), plus "no snapshot yet" and "stopped"."""
    if status is None:
        return HeaderState.UNKNOWN
    state = tray_state(status)
    if state is not TrayState.ENGINE_ERROR and status.configured and not status.running:
        return HeaderState.STOPPED
    return HeaderState(state.value)


def describe(status: EngineStatus | None, now: float) -> HeaderView:
    """The header's words for a status snapshot."""
    state = header_state(status)
    if status is None:
        return HeaderView(state, tr("Waiting for the sync engine…"), "")
    if state is HeaderState.UNCONFIGURED:
        detail = tr("Enter the Plex and Stash details in Settings.")
        return HeaderView(state, tr("Not set up yet"), detail)
    if state is HeaderState.ENGINE_ERROR:
        return HeaderView(state, tr("The sync engine has stopped working"), _lines(status))
    if state is HeaderState.AUTH_FAILED:
        name = auth_service_name(status)
        return HeaderView(
            state,
            tr("%1 sign-in failed").replace("%1", name),
            tr("Syncing is paused until the %1 login works.").replace("%1", name),
        )
    if state is HeaderState.PAUSED:
        return HeaderView(state, _paused_title(status, now), tr(RESUME_DETAIL))
    if state is HeaderState.STOPPED:
        return HeaderView(state, tr("Stopped"), tr("The sync engine is not running."))
    if state is HeaderState.OPEN:
        return HeaderView(state, tr("Plex unreachable (circuit open)"), _retry_detail(status, now))
    if state is HeaderState.HALF_OPEN and status.breaker_state is CircuitState.CLOSED:
        detail = tr("Asking Plex now; waiting for its answer.")
        return HeaderView(state, tr("Checking Plex…"), detail)
    if state is HeaderState.HALF_OPEN:
        return HeaderView(state, tr("Testing the connection (half-open)"), tr("Trying Plex again…"))
    if state is HeaderState.STASH_PROBLEM:
        detail = tr("Plex is fine; Stash changes wait until Stash answers.")
        return HeaderView(state, stash_words(status), detail)
    detail = (
        tr("In step with Stash.")
        if not status.last_error
        else tr("Last error: %1").replace("%1", status.last_error)
    )
    return HeaderView(state, tr("Connected (circuit closed)"), _lines(status) or detail)


RESUME_DETAIL = "Changes in Stash are queued and synced on resume."


def _paused_title(status: EngineStatus, now: float) -> str:
    until = status.paused_until
    if until is None:
        return tr("Paused until restart")
    return tr("Paused until %1").replace("%1", format_clock(until, now))


def _retry_detail(status: EngineStatus, now: float) -> str:
    if status.retry_at is None:
        return tr("Plex did not answer; requests are on hold.")
    left = status.retry_at - now
    if left <= 0:
        return tr("Retrying now…")
    return tr("Next retry in %1.").replace("%1", format_countdown(left))


def _lines(status: EngineStatus) -> str:
    """Another service's problem, or the engine's message and what to do, one per line."""
    return "\n".join(other_problems(status))
