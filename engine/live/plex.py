"""Plex's notification websocket as a live-update stream: new items and finished scans.

Each message goes to the engine twice over: what it says about items being processed
(`plex_news`, so writes to a new item wait for Plex's agent, `engine.live.processing`), then
whether Plex gained items (`plex_signal`).

The URL is the configured Plex URL with ws(s) for http(s) and `/:/websockets/notifications`,
the token in the `X-Plex-Token` query parameter, as python-plexapi's AlertListener connects
(`plexapi/alert.py` `run`, `PlexServer.url(key, includeToken=True)`). Logs show the URL without
the query. PMS only pushes; nothing is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import quote

from websockets.sync.client import ClientConnection

from engine.config.file import PlexSyncConfig
from engine.live.messages import LiveEvent, plex_events
from engine.live.stream import SLICE, Target, ws_url

logger = logging.getLogger(__name__)

NOTIFICATIONS = "/:/websockets/notifications"


class PlexNotifications:
    name = "Plex"

    def target(self, config: PlexSyncConfig) -> Target | None:
        token = config.plex_token.get_secret_value()
        if not (config.live_updates and config.plex_url and token):
            return None
        url = ws_url(config.plex_url, NOTIFICATIONS)
        return Target(
            f"{url}?X-Plex-Token={quote(token, safe='')}", url, ca_bundle=config.plex_ca_bundle
        )

    def session(
        self,
        connection: ClientConnection,
        deliver: Callable[[LiveEvent], None],
        keep_going: Callable[[], bool],
    ) -> None:
        while keep_going():
            try:
                message = connection.recv(timeout=SLICE)
            except TimeoutError:
                continue
            news, signal = plex_events(message)  # one parse; none for types that cannot matter
            if news is not None:  # first: a new item is known before its job is readied
                deliver(news)
            if signal is not None:
                deliver(signal)
