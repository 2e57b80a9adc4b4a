"""Composition of a running engine: store, clients, engine and control channel, built once."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from engine.clock import SYSTEM_CLOCK, Clock
from engine.config import PlexSyncConfig
from engine.control import ControlServer
from engine.events import NULL_LISTENER, SyncListener
from engine.paths import AppPaths
from engine.plex_client import PlexClient, set_client_identity
from engine.stash_client import StashClient
from engine.store import JobStore
from engine.store_open import open_job_store
from engine.sync import SyncEngine

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
    ) -> EngineRuntime:
        paths.ensure()
        store = open_job_store(paths.database, clock=clock)
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
        control = ControlServer(engine, paths.control_file).start() if serve_control else None
        return cls(paths, store, engine, control)

    def close(self) -> None:
        """Stop serving commands, close clients and the database (after the engine stopped)."""
        if self.control is not None:
            self.control.stop()
            self.control = None
        self.engine.close()
        self.store.close()
