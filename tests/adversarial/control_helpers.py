"""An engine with its control channel, and raw conversations for hostile or hand-made requests."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.config.file import PlexSyncConfig
from engine.control.protocol import Endpoint, canonical, choose_socket_path, mac, new_nonce
from engine.control.server import ChannelLimits, ControlServer
from engine.paths import AppPaths
from engine.store.jobs import JobStore
from engine.sync.engine import SyncEngine

FAST_LIMITS = ChannelLimits(max_connections=4, idle_timeout=0.3, read_timeout=0.6)


def _no_client(config: PlexSyncConfig) -> Any:
    raise AssertionError("an unconfigured engine must not build clients")


@contextmanager
def running_engine(tmp_path: Path) -> Iterator[SyncEngine]:
    """An unconfigured engine ticking on its own thread (it never calls Plex or Stash)."""
    store = JobStore(tmp_path / "db.sqlite3")
    engine = SyncEngine(
        config=PlexSyncConfig(), store=store, plex_factory=_no_client, stash_factory=_no_client
    )
    thread = threading.Thread(target=engine.run, name="test-engine", daemon=True)
    thread.start()
    try:
        yield engine
    finally:
        engine.request_stop()
        thread.join(5)
        store.close()


@contextmanager
def serving(
    engine: SyncEngine, data_dir: Path, transport: str, limits: ChannelLimits = FAST_LIMITS
) -> Iterator[ControlServer]:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    socket_path = None
    if transport == "unix":
        socket_path = choose_socket_path(data_dir, AppPaths.in_dir(data_dir).runtime_dir)
        assert socket_path is not None
    server = ControlServer(
        engine, data_dir / "control.json", socket_path=socket_path, limits=limits
    ).start()
    try:
        yield server
    finally:
        server.stop()


def connect(endpoint: Endpoint, timeout: float = 5.0) -> socket.socket:
    if endpoint.transport == "unix":
        assert endpoint.path is not None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(endpoint.path)
        except OSError:
            sock.close()
            raise
        return sock
    assert endpoint.port is not None
    return socket.create_connection(("127.0.0.1", endpoint.port), timeout=timeout)


def read_line(sock: socket.socket) -> bytes:
    """One line, or b"" when the server closed the connection first."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    return data


def authenticated_raw(endpoint: Endpoint, command: str, raw_args: Any) -> dict[str, Any]:
    """A correctly proven request whose arguments are whatever the test wants to send."""
    with connect(endpoint) as sock:
        client_nonce = new_nonce()
        sock.sendall(json.dumps({"v": 1, "client_nonce": client_nonce}).encode() + b"\n")
        hello = json.loads(read_line(sock))
        nonces = (client_nonce, hello["server_nonce"])
        proof = mac(endpoint.secret, "client", *nonces, command, canonical(raw_args))
        request = {"command": command, "args": raw_args, "proof": proof}
        sock.sendall(json.dumps(request).encode() + b"\n")
        answer: dict[str, Any] = json.loads(read_line(sock))
        return answer


def hello_then(endpoint: Endpoint, second: bytes) -> bytes:
    """A valid hello, then raw bytes as the request; returns the server's answer line."""
    with connect(endpoint) as sock:
        sock.sendall(json.dumps({"v": 1, "client_nonce": new_nonce()}).encode() + b"\n")
        read_line(sock)
        sock.sendall(second)
        return read_line(sock)
