"""The engine's one Plex client and one Stash client, made on first use and closed together.

Everything on the engine thread that talks to a server asks here, so a new config (which closes
both) can never leave a collaborator holding a client for the old addresses. The dispatcher's
workers make their own (`engine.push.dispatch.Lanes`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from engine.config.file import PlexSyncConfig
from engine.plex.target import PlexTarget
from engine.stash.source import StashSource

logger = logging.getLogger(__name__)

PlexFactory = Callable[[PlexSyncConfig], PlexTarget]
StashFactory = Callable[[PlexSyncConfig], StashSource]


class ServerClients:
    def __init__(
        self,
        config: Callable[[], PlexSyncConfig],
        plex_factory: PlexFactory,
        stash_factory: StashFactory,
    ) -> None:
        self._config = config
        self.plex_factory = plex_factory
        self.stash_factory = stash_factory
        self._plex: PlexTarget | None = None
        self._stash: StashSource | None = None

    def plex(self) -> PlexTarget:
        if self._plex is None:
            self._plex = self.plex_factory(self._config())
        return self._plex

    def stash(self) -> StashSource:
        if self._stash is None:
            self._stash = self.stash_factory(self._config())
        return self._stash

    def close(self) -> None:
        """Close both (a failing close is logged, never raised); the next use makes new ones."""
        for client in (self._plex, self._stash):
            if client is not None:
                try:
                    client.close()
                except Exception:
                    logger.debug("Closing a client failed", exc_info=True)
        self._plex = self._stash = None
