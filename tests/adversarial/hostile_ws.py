"""Hostile websocket servers on 127.0.0.1 for the live streams: each bounded in time and count.

`ws_server(handler)` runs a websockets server whose `handler(connection)` misbehaves as told;
`raw_server(answer)` answers every connection with fixed bytes (a redirect, an HTML page) and
closes. Both count the connections they took.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from websockets.sync.server import ServerConnection, serve

from engine.config.file import PlexSyncConfig

TOKEN = "hostile-test-token-9f8e7d"
API_KEY = "hostile-test-key-1a2b3c"


@dataclass
class Served:
    port: int
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def took_one(self) -> None:
        with self.lock:
            self.connections += 1

    def config(self, **changes: object) -> PlexSyncConfig:
        url = f"http://127.0.0.1:{self.port}"
        base: dict[str, object] = {
            "plex_url": url,
            "plex_token": TOKEN,
            "stash_url": url,
            "stash_api_key": API_KEY,
            "path_mappings": [{"stash_prefix": "/data", "plex_prefix": "/media"}],
            "sync_poster": False,
        }
        return PlexSyncConfig(**{**base, **changes})


@contextmanager
def ws_server(
    handler: Callable[[ServerConnection], None], *, subprotocols: list[str] | None = None
) -> Iterator[Served]:
    served = Served(0)

    def counted(connection: ServerConnection) -> None:
        served.took_one()
        handler(connection)

    kwargs: dict[str, object] = {"max_size": None}
    if subprotocols:
        kwargs["subprotocols"] = subprotocols
    with serve(counted, "127.0.0.1", 0, **kwargs) as server:  # type: ignore[arg-type]
        served.port = server.socket.getsockname()[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield served
        finally:
            server.shutdown()
            thread.join(5)


@contextmanager
def raw_server(answer: bytes) -> Iterator[Served]:
    """Reads a request, sends `answer`, closes; until the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    served = Served(listener.getsockname()[1])
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            served.took_one()
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        stop.set()
        thread.join(5)
        listener.close()
