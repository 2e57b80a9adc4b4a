"""Plex's transport against real sockets: each way a connection fails is put into the
same words and error classes as before, and answers are read the way requests read them."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.config.file import PlexSyncConfig
from engine.errors import TransientError, UnreachableError
from engine.plex.client import PlexClient
from engine.plex.transport import PlexTransport

pytestmark = pytest.mark.integration

TOKEN = "plex-token-abcdef123"
ROOT = b'<MediaContainer size="0" machineIdentifier="m1" version="1.40.0"/>'


@contextmanager
def raw_server(answer: bytes | None) -> Iterator[str]:
    """A socket that answers every connection with `answer` then closes (None: never answers)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # closing a socket does not wake a blocked accept() on Linux
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.recv(65536)
            if answer is None:
                held.append(conn)  # keep it open and silent
                continue
            conn.sendall(answer)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for conn in held:
            conn.close()
        assert not thread.is_alive()


def client_for(url: str) -> PlexClient:
    config = PlexSyncConfig(plex_url=url, plex_token=TOKEN, plex_read_timeout=1)
    return PlexClient(config)


def http_answer(body: bytes, *, length: int | None = None, extra: str = "") -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml;charset=utf-8\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n{extra}"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def test_a_closed_port_is_refused_in_words() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    client = client_for(url)
    with pytest.raises(UnreachableError) as info:
        client.probe()
    client.close()
    assert "refused the connection" in info.value.message and TOKEN not in str(info.value)


def test_a_silent_server_times_out_in_words() -> None:
    with raw_server(None) as url:
        client = client_for(url)
        with pytest.raises(UnreachableError) as info:
            client.probe()
        client.close()
    assert "did not answer in time" in info.value.message


def test_an_answer_cut_short_is_a_broken_answer_not_an_outage() -> None:
    with raw_server(http_answer(ROOT[:20], length=len(ROOT))) as url:
        client = client_for(url)
        with pytest.raises(TransientError) as info:
            client.probe()
        client.close()
    assert "broken answer" in info.value.title


def test_a_gzip_answer_is_decoded_and_utf8_text_kept() -> None:
    root = '<MediaContainer size="0" machineIdentifier="m1" friendlyName="Küche"/>'.encode()
    with raw_server(http_answer(gzip.compress(root), extra="Content-Encoding: gzip\r\n")) as url:
        client = client_for(url)
        try:
            server = client.server()
        finally:
            client.close()
    assert server.machineIdentifier == "m1" and server.friendlyName == "Küche"


def test_through_a_configured_proxy_plex_requests_go_to_the_proxy() -> None:
    """With a proxy (from the environment, as requests reads it), Plex is asked through it."""
    seen: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append(self.path)  # a proxy is sent the absolute URL
            self.send_response(200)
            self.send_header("Content-Length", str(len(ROOT)))
            self.end_headers()
            self.wfile.write(ROOT)

        def log_message(self, format: str, *args: object) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    plex = "http://plex.invalid:32400"
    try:
        transport = PlexTransport(plex, proxies={"http": f"http://127.0.0.1:{proxy.server_port}"})
        answer = transport.get(f"{plex}/identity", headers={"X-Plex-Token": TOKEN})
        transport.close()
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(5)
    assert answer.status_code == 200 and answer.content == ROOT
    assert seen == [f"{plex}/identity"]
