"""Status as plain data, for `plexsync status --json` and the control channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.breaker import BreakerSnapshot
from engine.events import EngineStatus, Progress, ServiceHealth
from engine.store.jobs import JobStore


def local_midnight(epoch: float) -> float:
    """Start of the user's local day: what "synced today" means to a person."""
    local = dt.datetime.fromtimestamp(epoch, tz=dt.UTC).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def read_status(
    store: JobStore,
    breaker: BreakerSnapshot,
    *,
    now: float,
    configured: bool,
    paused: bool = False,
    paused_until: float | None = None,
    auth_error: str | None = None,
    last_error: str | None = None,
    progress: Progress | None = None,
    running: bool = True,
    auth_service: str | None = None,
    stash_health: ServiceHealth = ServiceHealth.UNKNOWN,
    stash_error: str | None = None,
    plex_checking: bool = False,
    engine_error: str | None = None,
    last_checked_at: float | None = None,
) -> EngineStatus:
    """A status snapshot from the store plus what only the engine knows (in its arguments)."""
    counts = store.counts()
    last = store.get_value("last_sync_at")
    return EngineStatus(
        breaker_state=breaker.state,
        opened_at=breaker.opened_at,
        retry_at=breaker.retry_at,
        pending=counts.pending,
        in_progress=counts.in_progress,
        waiting=counts.waiting,
        dlq=counts.dlq,
        last_sync_at=float(last) if isinstance(last, int | float) else None,
        synced_today=store.synced_since(local_midnight(now)),
        configured=configured,
        paused=paused,
        paused_until=paused_until,
        auth_error=auth_error,
        last_error=last_error,
        progress=progress,
        running=running,
        auth_service=auth_service,
        stash_health=stash_health,
        stash_error=stash_error,
        plex_checking=plex_checking,
        engine_error=engine_error,
        last_checked_at=last_checked_at,
    )


def status_to_dict(status: EngineStatus) -> dict[str, Any]:
    progress = status.progress
    return {
        "breaker": {
            "state": status.breaker_state.value,
            "opened_at": status.opened_at,
            "retry_at": status.retry_at,
        },
        "queue": {
            "pending": status.pending,
            "in_progress": status.in_progress,
            "waiting": status.waiting,
        },
        "dlq": {"count": status.dlq},
        "last_sync_at": status.last_sync_at,
        "last_checked_at": status.last_checked_at,
        "synced_today": status.synced_today,
        "configured": status.configured,
        "paused": status.paused,
        "paused_until": status.paused_until,
        "auth_error": status.auth_error,
        "last_error": status.last_error,
        "progress": None
        if progress is None
        else {"done": progress.done, "total": progress.total, "rate": progress.rate},
        "engine_running": status.running,
        "auth_service": status.auth_service,
        "stash": {"health": status.stash_health.value, "error": status.stash_error},
        "plex_checking": status.plex_checking,
        "engine_error": status.engine_error,
        "first_sync": status.first_sync,
        "live_updates": {"error": status.live_error},
    }
