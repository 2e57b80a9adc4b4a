"""Composition of a running engine: lock, store, clients, engine and control channel, built once.

The engine lock comes first: only its holder may recover jobs left in progress or replace the
control socket, so a second engine on the same data dir is refused before it touches anything.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from engine.clock import SYSTEM_CLOCK, Clock
from engine.config.file import PlexSyncConfig
from engine.control.protocol import choose_socket_path
from engine.control.server import ControlServer
from engine.events import NULL_LISTENER, SyncListener
from engine.paths import AppPaths
from engine.plex.client import PlexClient, set_client_identity
from engine.runtime.live import LiveUpdates
from engine.runtime.lock import EngineLock
from engine.stash.client import StashClient
from engine.store.jobs import JobStore
from engine.store.open import open_job_store
from engine.sync.engine import SyncEngine

logger = logging.getLogger(__name__)

CLIENT_ID_KEY = "plex_client_identifier"


def client_identifier(store: JobStore) -> str:
    """Our persisted X-Plex-Client-Identifier (a new one per start makes Plex announce devices)."""
    value = store.get_value(CLIENT_ID_KEY)
    if not isinstance(value, str) or not value:
        value = f"plexsync-tray-{uuid.uuid4()}"
        store.set_value(CLIENT_ID_KEY, value)
    return value


@dataclass
class EngineRuntime:
    paths: AppPaths
    store: JobStore
    engine: SyncEngine
    control: ControlServer | None
    lock: EngineLock | None = None
    live: LiveUpdates | None = None

    @classmethod
    def open(
        cls,
        paths: AppPaths,
        config: PlexSyncConfig,
        *,
        listener: SyncListener = NULL_LISTENER,
        clock: Clock = SYSTEM_CLOCK,
        serve_control: bool = True,
        idle_probes: bool = True,
        live_updates: bool = True,
    ) -> EngineRuntime:
        paths.ensure()
        lock = EngineLock(paths.data_dir).acquire()  # EngineBusyError if another engine runs
        try:
            store = open_job_store(paths.database, clock=clock)
        except BaseException:
            lock.release()
            raise
        try:
            set_client_identity(client_identifier(store))
            engine = SyncEngine(
                config=config,
                store=store,
                plex_factory=PlexClient,
                stash_factory=StashClient,
                clock=clock,
                listener=listener,
                idle_probes=idle_probes,
            )
            control = None
            if serve_control:
                socket_path = choose_socket_path(paths.data_dir, paths.runtime_dir)
                control = ControlServer(engine, paths.control_file, socket_path=socket_path)
                control.start()
            # Websocket streams for a long-running engine; settings can still turn them off.
            live = LiveUpdates(engine).start() if live_updates else None
        except BaseException:
            store.close()
            lock.release()
            raise
        return cls(paths, store, engine, control, lock, live)

    def close(self) -> None:
        """Stop serving commands, close clients and the database (after the engine stopped)."""
        if self.live is not None:
            self.live.stop()
            self.live = None
        if self.control is not None:
            self.control.stop()
            self.control = None
        self.engine.close()
        self.store.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None
