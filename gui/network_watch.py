"""Tell the engine when the network changes, where Qt has a backend that notices it.

A laptop that joins another network (or gets its link back after sleep) fails a few calls while
DNS and routes settle; the engine's settle window keeps those from opening the breaker, and then
checks at once. Qt's QNetworkInformation reports the change (NetworkManager on Linux, the system
APIs on macOS and Windows); without a backend (a headless box, tests) this does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtNetwork import QNetworkInformation

logger = logging.getLogger(__name__)


class NetworkWatch(QObject):
    """Calls `on_change` (on the GUI thread) whenever reachability or the medium changes."""

    def __init__(self, on_change: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_change = on_change
        self.info = _load_backend()
        if self.info is None:
            logger.info("No network information backend: network changes are noticed by failures")
            return
        self._last = self.info.reachability()
        self.info.reachabilityChanged.connect(self.on_info_reachability_changed)
        self.info.transportMediumChanged.connect(self.on_info_transport_medium_changed)

    @Slot(QNetworkInformation.Reachability)
    def on_info_reachability_changed(self, reachability: QNetworkInformation.Reachability) -> None:
        if reachability == self._last:
            return
        logger.info("The network changed (%s)", reachability.name)
        self._last = reachability
        self._on_change()

    @Slot(QNetworkInformation.TransportMedium)
    def on_info_transport_medium_changed(self, medium: QNetworkInformation.TransportMedium) -> None:
        logger.info("The network medium changed (%s)", medium.name)
        self._on_change()


def _load_backend() -> QNetworkInformation | None:
    try:
        loaded = QNetworkInformation.loadDefaultBackend()
    except Exception:  # a broken plugin must never stop the tray
        logger.debug("Loading a network information backend failed", exc_info=True)
        return None
    return QNetworkInformation.instance() if loaded else None
