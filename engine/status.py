"""Status as plain data, for `plexsync status --json` and the control channel."""

from __future__ import annotations

from typing import Any

from engine.events import EngineStatus


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
    }
