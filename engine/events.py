"""What the engine tells the outside world: immutable snapshots and a listener protocol.

The engine calls the listener from its own worker thread; the tray's bridge turns the calls into
Qt signals. Listeners must return quickly and must not call back into the engine synchronously.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from engine.breaker import CircuitState


@dataclass(frozen=True)
class Progress:
    """A bulk sync in flight (for example the first full sync of a big library)."""

    done: int
    total: int
    rate: float  # scenes per second, smoothed; 0 until known

    @property
    def seconds_left(self) -> float | None:
        if self.rate <= 0 or self.total <= self.done:
            return None
        return (self.total - self.done) / self.rate


@dataclass(frozen=True)
class CheckProgress:
    """A library check in flight: its phase, and how far it got (total None while unknown)."""

    phase: str  # "plex", "stash", "reads" or "dlq"
    done: int
    total: int | None
    started_at: float  # epoch seconds


class ServiceHealth(Enum):
    """What the engine last learnt about a service (Stash; Plex's is the breaker)."""

    UNKNOWN = "unknown"  # not contacted yet
    OK = "ok"
    UNREACHABLE = "unreachable"  # refused, timed out, 5xx: it will be tried again
    AUTH_FAILED = "auth_failed"  # the credentials were rejected
    ERROR = "error"  # it answered, but not with what it should


@dataclass(frozen=True)
class EngineStatus:
    """Everything the tray shows at a glance. Times are epoch seconds (UTC)."""

    breaker_state: CircuitState
    opened_at: float | None
    retry_at: float | None
    pending: int
    in_progress: int
    waiting: int
    dlq: int
    last_sync_at: float | None
    synced_today: int
    configured: bool
    paused: bool
    paused_until: float | None  # None while paused means "until restart"
    auth_error: str | None  # e.g. "Plex rejected the token"; syncing is paused meanwhile
    last_error: str | None
    progress: Progress | None
    running: bool = True
    auth_service: str | None = None  # "plex" or "stash": whose credentials auth_error is about
    stash_health: ServiceHealth = ServiceHealth.UNKNOWN
    stash_error: str | None = None  # what went wrong with Stash, in words; None when healthy
    plex_checking: bool = False  # a reset or retry asked for a check that has not answered yet
    engine_error: str | None = None  # the engine itself is stuck (storage, crashed thread)
    check: CheckProgress | None = None  # a library check in flight
    last_checked_at: float | None = None  # last time Stash or Plex answered a check successfully
    first_sync: str | None = None  # the first sync's plan, said before its first write
    live_error: str | None = None  # live updates off: which stream and why (polling goes on)

    @classmethod
    def empty(cls, *, configured: bool = False, running: bool = False) -> EngineStatus:
        """A snapshot with nothing known yet: closed breaker, empty queue, no errors."""
        return cls(
            breaker_state=CircuitState.CLOSED,
            opened_at=None,
            retry_at=None,
            pending=0,
            in_progress=0,
            waiting=0,
            dlq=0,
            last_sync_at=None,
            synced_today=0,
            configured=configured,
            paused=False,
            paused_until=None,
            auth_error=None,
            last_error=None,
            progress=None,
            running=running,
        )


@dataclass(frozen=True)
class JobOutcome:
    """One scene's result."""

    scene_id: str
    title: str
    ok: bool
    error_class: str | None = None
    message: str | None = None
    retry_at: float | None = None
    dead_lettered: bool = False


class SyncListener(Protocol):
    """Hooks the engine calls; every one is optional in `NullListener`."""

    def status_changed(self, status: EngineStatus) -> None: ...

    def breaker_changed(self, old: CircuitState, new: CircuitState) -> None: ...

    def job_finished(self, outcome: JobOutcome) -> None: ...

    def dead_lettered(self, outcomes: list[JobOutcome]) -> None: ...

    def progress_changed(self, progress: Progress | None) -> None: ...

    def auth_failed(self, service: str, message: str) -> None: ...

    def check_changed(self, progress: CheckProgress | None) -> None:
        """A library check moved on (None: it finished or stopped; results are in the store)."""


class NullListener:
    """A listener that ignores everything; subclass it and override what you need."""

    def status_changed(self, status: EngineStatus) -> None:
        pass

    def breaker_changed(self, old: CircuitState, new: CircuitState) -> None:
        pass

    def job_finished(self, outcome: JobOutcome) -> None:
        pass

    def dead_lettered(self, outcomes: list[JobOutcome]) -> None:
        pass

    def progress_changed(self, progress: Progress | None) -> None:
        pass

    def auth_failed(self, service: str, message: str) -> None:
        pass

    def check_changed(self, progress: CheckProgress | None) -> None:
        pass


NULL_LISTENER = NullListener()


class EngineCommands(Protocol):
    """What a host (tray, CLI) may ask of a running engine, from any thread.

    Commands are queued and carried out on the engine's own thread at its next tick, so they
    never race the job in hand; `wake()` makes that tick happen at once.
    """

    def sync_now(self) -> None:
        """Poll Stash now and process every ready job; clears an auth pause."""

    def retry_now(self) -> None:
        """Open breaker: probe Plex now. Jobs waiting for a backoff become ready now."""

    def reset_breaker(self) -> None:
        """Force the breaker CLOSED (manual reset)."""

    def pause(self, until: float | None) -> None:
        """Stop syncing until an epoch time, or until resume()/restart when None."""

    def resume(self) -> None: ...

    def apply_config(self, config: object) -> None:
        """Use a new `PlexSyncConfig` without a restart (clients are rebuilt)."""

    def dlq_retry(self, entry_ids: list[int] | None) -> None:
        """Send DLQ entries back to the queue (None = all)."""

    def dlq_delete(self, entry_ids: list[int] | None) -> None: ...

    def status(self) -> EngineStatus:
        """The latest snapshot (cheap; safe from any thread)."""
        ...
