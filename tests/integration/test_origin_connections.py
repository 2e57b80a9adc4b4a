"""Plex's keep-alive connections (`engine/plex/connections.py`) against a real HTTP/1.1
server: connections are reused while the server keeps them, replaced when it has closed them,
and answers are read as requests reads them."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from urllib3.util import wait_for_read

from engine.plex.connections import OriginConnections

pytestmark = pytest.mark.integration

TIMEOUT = (5.0, 5.0)


class KeepAliveServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.release = threading.Event()  # /wait answers once it is set
        self.waiting = threading.Event()  # set while /wait holds its answer back


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless an answer says otherwise
    server: KeepAliveServer

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        body, extra = b"ok", []
        if self.path == "/deflate":
            body, extra = zlib.compress(b"deflated"), [("Content-Encoding", "deflate")]
        if self.path == "/twice":
            extra = [("X-Plex-Thing", "a"), ("x-plex-thing", "b")]
        if self.path == "/close":
            extra = [("Connection", "close")]
        if self.path == "/wait":
            self.server.waiting.set()
            self.server.release.wait(5)
        self.send_response(200)
        for name, value in [("Content-Length", str(len(body))), *extra]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        if self.path == "/hang-up":
            self.close_connection = True  # closes after answering, without saying so

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def keep_alive_server() -> Iterator[KeepAliveServer]:
    server = KeepAliveServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def connections_to(server: KeepAliveServer) -> OriginConnections:
    return OriginConnections("http", "127.0.0.1", server.server_address[1], ca_file="", keep=4)


def get(connections: OriginConnections, path: str) -> bytes:
    answer = connections.send("GET", path, body=None, headers={}, timeout=TIMEOUT)
    assert answer.status == 200
    return answer.body


def test_requests_share_one_connection_while_the_server_keeps_it() -> None:
    with keep_alive_server() as server:
        connections = connections_to(server)
        assert [get(connections, "/") for _ in range(5)] == [b"ok"] * 5
        connections.close()
    assert server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_not_failed() -> None:
    with keep_alive_server() as server:
        connections = connections_to(server)
        assert get(connections, "/hang-up") == b"ok"  # the server hangs up after answering
        (idle,) = connections._idle
        assert wait_for_read(idle.sock, 5)  # the hang-up has reached us (no fixed sleep)
        # The next request must not be written to the dead socket (a broken pipe, or an
        # answer that never comes): it goes on a new connection.
        assert get(connections, "/") == b"ok"
        connections.close()
    assert server.connections == 2


def test_an_answer_that_says_close_is_followed_by_a_new_connection() -> None:
    with keep_alive_server() as server:
        connections = connections_to(server)
        assert get(connections, "/close") == b"ok"
        assert get(connections, "/") == b"ok"
        connections.close()
    assert server.connections == 2


def test_deflate_is_decoded_and_a_repeated_header_joined_as_requests_does() -> None:
    with keep_alive_server() as server:
        connections = connections_to(server)
        assert get(connections, "/deflate") == b"deflated"
        answer = connections.send("GET", "/twice", body=None, headers={}, timeout=TIMEOUT)
        connections.close()
    assert answer.headers["X-Plex-Thing"] == "a, b"


def test_a_connection_in_use_at_close_is_not_kept_afterwards() -> None:
    with keep_alive_server() as server:
        connections = connections_to(server)
        answers: list[bytes] = []
        caller = threading.Thread(target=lambda: answers.append(get(connections, "/wait")))
        caller.start()
        assert server.waiting.wait(5)
        connections.close()  # the engine closing while a request is out
        server.release.set()
        caller.join(5)
        assert answers == [b"ok"]
        assert get(connections, "/") == b"ok"  # usable still, on a new connection
        connections.close()
    assert server.connections == 2


def test_an_unreadable_ca_file_is_a_tls_failure_when_used_not_a_crash(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n")
    connections = OriginConnections("https", "127.0.0.1", 1, ca_file=str(bundle), keep=1)
    with pytest.raises(requests.exceptions.SSLError) as info:
        connections.send("GET", "/", body=None, headers={}, timeout=TIMEOUT)
    assert "CA certificate file" in str(info.value)
