"""Local attackers against the control channel: floods, slow peers, impostors and bad input."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from control_helpers import (
    FAST_LIMITS,
    authenticated_raw,
    connect,
    hello_then,
    read_line,
    running_engine,
    serving,
)

from engine.control.client import ControlError, EngineNotRunningError, call_running_engine
from engine.control.protocol import Endpoint, peer_uid, read_endpoint, write_endpoint
from engine.control.server import ControlServer
from engine.sync.engine import SyncEngine

TRANSPORTS = ["unix", "tcp"]  # tcp is what Windows uses


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[SyncEngine]:
    with running_engine(tmp_path) as engine:
        yield engine


@pytest.fixture(params=TRANSPORTS)
def server(
    request: pytest.FixtureRequest, engine: SyncEngine, tmp_path: Path
) -> Iterator[ControlServer]:
    with serving(engine, tmp_path / "data", request.param) as server:
        yield server


def control_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "control.json"


# --- point 12: bounded connections -------------------------------------------------------------


def test_a_flood_of_idle_connections_is_bounded_and_cut_off(
    server: ControlServer, tmp_path: Path
) -> None:
    threads_before = threading.active_count()
    endpoint = server.endpoint
    flood: list[socket.socket] = []
    refused = 0
    try:
        for _ in range(60):
            try:
                flood.append(connect(endpoint))
            except (BlockingIOError, ConnectionRefusedError):
                refused += 1  # the kernel's backlog is full: refused even earlier
        time.sleep(0.1)  # let the acceptor see them all
        assert server.connection_count <= FAST_LIMITS.max_connections
        assert threading.active_count() <= threads_before + FAST_LIMITS.max_connections
        for sock in flood:
            sock.settimeout(3.0)
            line = read_line(sock)  # busy at once, or closed after the idle timeout
            assert line == b"" or b"busy" in line
            refused += b"busy" in line
        # Over the limit: refused at once; the rest waited in the backlog and were cut off.
        assert refused > 0
    finally:
        for sock in flood:
            sock.close()
    assert call_running_engine(control_file(tmp_path), "status")["engine_running"] is True


def test_a_slow_trickle_is_cut_off_by_the_read_timeout(server: ControlServer) -> None:
    with connect(server.endpoint) as sock:
        started = time.monotonic()
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            for _ in range(100):
                sock.sendall(b"{")
                time.sleep(0.05)
        assert time.monotonic() - started < FAST_LIMITS.read_timeout + 1.5


def test_an_oversized_message_is_refused(server: ControlServer, tmp_path: Path) -> None:
    with connect(server.endpoint) as sock:
        with contextlib.suppress(OSError):  # the server may hang up before all is sent
            sock.sendall(b"x" * (FAST_LIMITS.max_message + 4096))
        with contextlib.suppress(ConnectionResetError):
            assert read_line(sock) == b""  # dropped without waiting for a newline
    assert call_running_engine(control_file(tmp_path), "status")["engine_running"] is True


# --- point 13: the client verifies the server --------------------------------------------------


class Impostor:
    """Whatever binds a dead engine's address: records what it gets, answers with lies."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        lie = b'{"ok": true, "result": {"engine_running": true}, "error": null}\n'
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    conn.sendall(lie)
                    while chunk := conn.recv(4096):
                        self.received += chunk
                        conn.sendall(lie)
                except OSError:
                    pass


def _stale_endpoint(tmp_path: Path, transport: str) -> tuple[Endpoint, socket.socket]:
    """Start and stop a real server (as if killed), then let an impostor take its address."""
    with running_engine(tmp_path / "old") as engine, serving(engine, tmp_path / "data", transport):
        endpoint = read_endpoint(control_file(tmp_path))
    assert endpoint is not None
    write_endpoint(control_file(tmp_path), endpoint)  # kill -9 leaves the file behind
    if transport == "unix":
        assert endpoint.path is not None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(endpoint.path)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", endpoint.port or 0))
    sock.listen(4)
    return endpoint, sock


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_impostor_on_a_stale_address_learns_nothing_and_is_not_believed(
    tmp_path: Path, transport: str
) -> None:
    endpoint, sock = _stale_endpoint(tmp_path, transport)
    impostor = Impostor(sock)
    try:
        for command in ("status", "dlq_delete"):
            with pytest.raises(EngineNotRunningError):
                call_running_engine(control_file(tmp_path), command, {"ids": None}, timeout=2.0)
    finally:
        sock.close()
    assert endpoint.secret.encode() not in impostor.received
    assert b"secret" not in impostor.received


def test_a_stale_control_file_and_socket_are_replaced_at_start(
    tmp_path: Path, engine: SyncEngine
) -> None:
    endpoint, sock = _stale_endpoint(tmp_path, "unix")
    sock.close()  # the dead engine's socket file is still on disk
    assert endpoint.path is not None and Path(endpoint.path).exists()
    with serving(engine, tmp_path / "data", "unix") as server:
        fresh = read_endpoint(control_file(tmp_path))
        assert fresh is not None and fresh.secret != endpoint.secret
        assert fresh == server.endpoint
        assert call_running_engine(control_file(tmp_path), "status")["engine_running"] is True


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets; TCP relies on the mutual proof")
def test_the_socket_lives_in_a_private_dir_and_checks_its_peer(
    engine: SyncEngine, tmp_path: Path
) -> None:
    with serving(engine, tmp_path / "data", "unix") as server:
        endpoint = server.endpoint
        assert endpoint.path is not None
        socket_file = Path(endpoint.path)
        assert stat.S_IMODE(socket_file.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(socket_file.stat().st_mode) == 0o600
        with connect(endpoint) as sock:
            assert peer_uid(sock) in (None, os.getuid())


def test_the_control_file_is_private(server: ControlServer, tmp_path: Path) -> None:
    assert stat.S_IMODE(control_file(tmp_path).stat().st_mode) == 0o600


# --- point 15: every message is validated at the boundary --------------------------------------


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("pause", {"until": "abc"}, "bad arguments for pause: until"),
        ("pause", {"until": -5}, "bad arguments for pause: until"),
        ("pause", {"until": 1e308, "extra": 1}, "extra"),
        ("dlq_retry", {"ids": [99999999999999999999]}, "bad arguments for dlq_retry: ids.0"),
        ("dlq_delete", {"ids": ["1"]}, "bad arguments for dlq_delete: ids.0"),
        ("dlq_purge", {"older_than_days": -1}, "older_than_days"),
        ("dlq_purge", {}, "older_than_days"),
        ("format_disk", {}, "unknown command"),
    ],
)
def test_bad_arguments_get_a_clear_error_and_the_engine_lives(
    server: ControlServer, engine: SyncEngine, command: str, args: object, expected: str
) -> None:
    answer = authenticated_raw(server.endpoint, command, args)
    assert answer["ok"] is False and expected in answer["error"]
    assert "Traceback" not in answer["error"]
    status = authenticated_raw(server.endpoint, "status", {})
    assert status["ok"] is True and status["result"]["paused"] is False
    assert not engine.stopping


@pytest.mark.parametrize(
    "second",
    [
        '{"command": "status", "args": {}, "proof": "sécrèt-ünïcødé"}\n'.encode(),
        b'{"command": "status", "args": {}, "proof": "\xff\xfe"}\n',
        b"[" * 60000 + b"\n",
        b'["not", "an", "object"]\n',
        b'{"command": "status", "args": [], "proof": "' + b"0" * 64 + b'"}\n',
        b'{"command": "status", "args": {}, "proof": "' + b"0" * 64 + b'"}\n',
    ],
)
def test_hostile_requests_get_short_replies_and_no_traceback(
    server: ControlServer, tmp_path: Path, second: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    line = hello_then(server.endpoint, second)
    if line:  # a reply, never a traceback; a nesting bomb may also just be dropped
        answer = json.loads(line)
        assert answer["ok"] is False
        assert answer["error"] in ("malformed request", "not authorised")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert call_running_engine(control_file(tmp_path), "status")["engine_running"] is True


@pytest.mark.parametrize(
    "first", ['{"secret": "ünïcødé", "command": "status"}\n'.encode(), b"\xff\n", b"[]\n"]
)
def test_a_bad_hello_is_refused_before_anything_else(server: ControlServer, first: bytes) -> None:
    with connect(server.endpoint) as sock:
        sock.sendall(first)
        answer = json.loads(read_line(sock) or b"{}")
    assert answer.get("ok") is False and "malformed request" in answer.get("error", "")


def test_a_proven_command_reaches_the_engine(server: ControlServer, tmp_path: Path) -> None:
    call_running_engine(control_file(tmp_path), "pause", {"until": time.time() + 3600})
    assert call_running_engine(control_file(tmp_path), "status")["paused"] is True
    call_running_engine(control_file(tmp_path), "resume")
    assert call_running_engine(control_file(tmp_path), "status")["paused"] is False
    with pytest.raises(ControlError, match="bad arguments for pause"):
        call_running_engine(control_file(tmp_path), "pause", {"until": "abc"})
