"""Builders for the engine's collaborators on their own: a fake clock, a real store, no engine."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine_fakes import FakePlex, FakeStash
from fake_clock import FakeClock

from engine.breaker import CircuitBreaker
from engine.config.file import PlexSyncConfig
from engine.events import NullListener, Progress
from engine.store.jobs import JobStore
from engine.sync.clients import ServerClients
from engine.sync.failures import ServiceState
from engine.sync.progress import BulkProgress
from engine.wakeup import WakeWatch


class Heard(NullListener):
    """What the collaborators told the listener."""

    def __init__(self) -> None:
        self.auth: list[tuple[str, str]] = []
        self.progress: list[Progress | None] = []
        self.finished: list[Any] = []
        self.dead: list[list[Any]] = []

    def auth_failed(self, service: str, message: str) -> None:
        self.auth.append((service, message))

    def progress_changed(self, progress: Progress | None) -> None:
        self.progress.append(progress)

    def job_finished(self, outcome: Any) -> None:
        self.finished.append(outcome)

    def dead_lettered(self, outcomes: list[Any]) -> None:
        self.dead.append(outcomes)


@dataclass
class Parts:
    clock: FakeClock
    store: JobStore
    config: PlexSyncConfig
    breaker: CircuitBreaker
    wake: WakeWatch
    heard: Heard
    plex: FakePlex
    stash: FakeStash
    clients: ServerClients
    services: ServiceState
    progress: BulkProgress
    stop: threading.Event = field(default_factory=threading.Event)
    unreachable_calls: list[str] = field(default_factory=list)


def make_parts(tmp_path: Path, clock: FakeClock, **settings: Any) -> Parts:
    config = PlexSyncConfig(
        plex_url="http://plex:32400", plex_token="token", poll_interval=10, **settings
    )
    store = JobStore(tmp_path / "db.sqlite3", clock=clock)
    breaker = CircuitBreaker(
        config.failure_threshold,
        config.recovery_timeout,
        config.success_threshold,
        clock=clock.now,
        storage=store,
    )
    wake = WakeWatch(clock)
    heard = Heard()
    plex, stash = FakePlex(["/media/1.mp4"]), FakeStash()
    clients = ServerClients(lambda: config, lambda c: plex, lambda c: stash)
    unreachable: list[str] = []
    services = ServiceState(
        store=store,
        clock=clock,
        listener=heard,
        breaker=breaker,
        wake=wake,
        config=lambda: config,
        plex=clients.plex,
        on_plex_unreachable=lambda: unreachable.append("refresh"),
    )
    progress = BulkProgress(clock, heard)
    return Parts(
        clock=clock,
        store=store,
        config=config,
        breaker=breaker,
        wake=wake,
        heard=heard,
        plex=plex,
        stash=stash,
        clients=clients,
        services=services,
        progress=progress,
        unreachable_calls=unreachable,
    )


def open_settle_window(parts: Parts) -> None:
    """The platform reported a network change and the engine's tick saw it."""
    parts.wake.network_changed()
    parts.wake.check()
    assert parts.wake.settling
