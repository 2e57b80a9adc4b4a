"""WebSocket endpoints on a simulator's own HTTP port, where the real servers serve them.

Real Plex serves `/:/websockets/notifications` and real Stash serves `/graphql` upgrades on the
same port as their HTTP API. A simulator's handler answers an upgrade request with `Upgrade`
(after its usual auth checks, faults and stats); the HTTP connection thread then finishes the
handshake with websockets' sans-I/O `ServerProtocol` and runs the endpoint on a websockets sync
`Connection` until either side closes. A `Hub` holds the open peers so the simulator can push.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.server import ServerProtocol
from websockets.sync.connection import Connection
from websockets.typing import Subprotocol

from plexsync_sim.messages import Request, Response

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT = 1.0
Endpoint = Callable[[Connection], None]
# Picks the subprotocol from those the client offered; None means "no subprotocol".
Selector = Callable[[Sequence[str]], str | None]


def is_upgrade(request: Request) -> bool:
    """A WebSocket opening handshake (RFC 6455 §4.1: `Upgrade: websocket`)."""
    return (request.header("Upgrade") or "").lower() == "websocket"


@dataclass
class Upgrade(Response):
    """The answer "switch protocols and run `endpoint`" (status 101 once the handshake is done)."""

    status: int = 101
    endpoint: Endpoint | None = None
    select: Selector | None = None


def _no_subprotocol(offered: Sequence[str]) -> str | None:
    return None


def switch(sock: socket.socket, request: Request, upgrade: Upgrade) -> None:
    """Finish the handshake for an already parsed `request`, then run the endpoint."""
    select = upgrade.select or _no_subprotocol

    def choose(_protocol: ServerProtocol, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        chosen = select(list(offered))
        return None if chosen is None else Subprotocol(chosen)

    protocol = ServerProtocol(select_subprotocol=choose)
    # The HTTP server already read the request; replay it so the protocol's parser moves on
    # to frames (its parser is a generator that expects the request first).
    target = quote(request.path, safe="/:") + (f"?{request.query}" if request.query else "")
    lines = [f"GET {target} HTTP/1.1", *(f"{k}: {v}" for k, v in request.headers.items())]
    protocol.receive_data(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    parsed = [e for e in protocol.events_received() if isinstance(e, WsRequest)]
    if not parsed:
        return
    response = protocol.accept(parsed[0])
    protocol.send_response(response)
    sock.sendall(b"".join(protocol.data_to_send()))
    if response.status_code != 101 or upgrade.endpoint is None:
        return
    connection = Connection(sock, protocol, ping_interval=None, close_timeout=CLOSE_TIMEOUT)
    try:
        upgrade.endpoint(connection)
    except ConnectionClosed:
        pass
    finally:
        connection.close()


@dataclass
class Hub:
    """The open peers of one endpoint; `broadcast` calls each peer's `deliver`."""

    _peers: list[Callable[[object], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, deliver: Callable[[object], None]) -> None:
        with self._lock:
            if deliver not in self._peers:
                self._peers.append(deliver)

    def remove(self, deliver: Callable[[object], None]) -> None:
        with self._lock:
            if deliver in self._peers:
                self._peers.remove(deliver)

    def broadcast(self, event: object) -> None:
        with self._lock:
            peers = list(self._peers)
        for deliver in peers:
            try:
                deliver(event)
            except (ConnectionClosed, OSError):
                logger.debug("a websocket peer went away during a push")

    def __len__(self) -> int:
        with self._lock:
            return len(self._peers)
