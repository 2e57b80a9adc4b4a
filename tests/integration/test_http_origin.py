"""Credentials go only to the configured origin: two local servers on different ports, one the
configured server and one anything else (a redirect target, a screenshot URL's host)."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from engine.config.file import PlexSyncConfig
from engine.errors import UnreachableError
from engine.http.session import configured_session
from engine.plex.client import PlexClient
from engine.plex.model import PlexItem
from engine.stash.client import StashClient

pytestmark = pytest.mark.integration

TOKEN = "plex-token-abcdef123"
PLEX_ROOT = b'<MediaContainer size="0" machineIdentifier="m1" version="1.40.0"/>'
API_KEY = "stash-api-key-xyz987"


class Recorder(ThreadingHTTPServer):
    """Records each request's path and headers; `redirect` maps a path to a Location."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[dict[str, Any]] = []
        self.redirect: dict[str, tuple[int, str]] = {}
        self.plex = False  # answer like Plex (XML) instead of like Stash (JSON)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append({"path": self.path, "headers": dict(self.headers)})
        route = self.server.redirect.get(self.path.split("?")[0])
        if route is not None:
            self.send_response(route[0])
            self.send_header("Location", route[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"data": {"version": {"version": "v0.27.0"}}}).encode()
        content_type = "application/json"
        if self.server.plex:
            body, content_type = PLEX_ROOT, "text/xml;charset=utf-8"
        if "screenshot" in self.path:  # a poster must be a real image
            body, content_type = b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[tuple[Recorder, Recorder]]:
    pair = (Recorder(), Recorder())
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in pair]
    for thread in threads:
        thread.start()
    yield pair
    for server, thread in zip(pair, threads, strict=True):
        server.shutdown()
        server.server_close()
        thread.join(5)


def credentials_in(request: dict[str, Any]) -> list[str]:
    headers = {k.lower(): v for k, v in request["headers"].items()}
    found = [name for name in ("x-plex-token", "apikey", "authorization") if name in headers]
    if TOKEN in request["path"] or API_KEY in request["path"]:
        found.append("query")
    return found


def stash_client(url: str) -> StashClient:
    return StashClient(PlexSyncConfig(stash_url=url, stash_api_key=API_KEY))


def test_stash_api_key_is_not_forwarded_on_a_redirect_to_another_port(
    servers: tuple[Recorder, Recorder],
) -> None:
    ours, other = servers
    ours.redirect["/graphql"] = (307, f"{other.url}/graphql")
    client = stash_client(ours.url)
    try:
        assert client.version() == "v0.27.0"
    finally:
        client.close()
    assert credentials_in(ours.seen[0]) == ["apikey"]
    assert other.seen and credentials_in(other.seen[0]) == []


def test_a_screenshot_on_another_host_gets_no_api_key(servers: tuple[Recorder, Recorder]) -> None:
    ours, other = servers
    client = stash_client(ours.url)
    try:
        client.fetch_image(f"{ours.url}/scene/1/screenshot")
        client.fetch_image(f"{other.url}/scene/1/screenshot")
        port = other.server_address[1]
        client.fetch_image(f"http://localhost:{port}/scene/2/screenshot")  # same port, new host
    finally:
        client.close()
    assert credentials_in(ours.seen[0]) == ["apikey"]
    assert [credentials_in(seen) for seen in other.seen] == [[], []]


def test_plex_token_header_and_parameter_stop_at_the_origin(
    servers: tuple[Recorder, Recorder],
) -> None:
    ours, other = servers
    ours.redirect["/library/sections"] = (302, f"{ours.url}/same-origin")
    ours.redirect["/same-origin"] = (302, f"{other.url}/elsewhere?X-Plex-Token={TOKEN}&a=1")
    session = configured_session(requests.Session(), ours.url)
    try:
        response = session.get(
            f"{ours.url}/library/sections",
            headers={"X-Plex-Token": TOKEN},
            params={"X-Plex-Token": TOKEN},
            timeout=5,
        )
    finally:
        session.close()
    assert response.status_code == 200
    first, same_origin = ours.seen  # a redirect within the origin keeps the header
    assert credentials_in(first) == ["x-plex-token", "query"]
    assert credentials_in(same_origin) == ["x-plex-token"]
    (elsewhere,) = other.seen
    assert credentials_in(elsewhere) == [] and elsewhere["path"] == "/elsewhere?a=1"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Recorder, Path]]:
    """A local https server with a self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    server = Recorder()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, cert
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_self_signed_certificate_is_named_and_a_ca_bundle_fixes_it(
    tls_server: tuple[Recorder, Path],
) -> None:
    server, cert = tls_server
    url = server.url.replace("http://", "https://")
    client = StashClient(PlexSyncConfig(stash_url=url))
    with pytest.raises(UnreachableError) as info:
        client.version()
    client.close()
    assert "TLS" in info.value.title and "stash_ca_bundle" in info.value.message
    trusted = StashClient(PlexSyncConfig(stash_url=url, stash_ca_bundle=str(cert)))
    try:
        assert trusted.version() == "v0.27.0"
    finally:
        trusted.close()


def plex_client(url: str, **settings: Any) -> PlexClient:
    return PlexClient(PlexSyncConfig(plex_url=url, plex_token=TOKEN, **settings))


@pytest.mark.parametrize("path", ["/", "/library/sections"])
def test_plex_never_follows_a_redirect_and_names_it(
    servers: tuple[Recorder, Recorder], path: str
) -> None:
    ours, other = servers
    ours.plex = other.plex = True
    ours.redirect[path] = (302, f"{other.url}/?X-Plex-Token={TOKEN}")
    client = plex_client(ours.url)
    try:
        with pytest.raises(UnreachableError) as info:
            client.probe()
    finally:
        client.close()
    assert "redirects" in info.value.title and other.url in info.value.message
    assert TOKEN not in str(info.value)
    assert other.seen == [] and credentials_in(ours.seen[-1]) == ["x-plex-token"]


def test_a_plex_edit_is_answered_by_plex_itself_not_a_redirect_target(
    servers: tuple[Recorder, Recorder],
) -> None:
    ours, other = servers
    ours.plex = other.plex = True
    ours.redirect["/library/sections/1/all"] = (307, f"{other.url}/library/sections/1/all")
    client = plex_client(ours.url)
    item = PlexItem("7", "1", "t", "", "", "", (), (), (), ("/a",), 0)
    try:
        with pytest.raises(UnreachableError):  # not written: retried, never dead-lettered
            client.edit(item, {"title.value": "x"})
    finally:
        client.close()
    assert other.seen == []


def test_plex_transport_refuses_any_other_origin_before_sending(
    servers: tuple[Recorder, Recorder],
) -> None:
    ours, other = servers
    client = plex_client(ours.url)
    try:
        with pytest.raises(requests.exceptions.InvalidURL) as info:
            client._session.get(f"{other.url}/x", headers={"X-Plex-Token": TOKEN})
    finally:
        client.close()
    assert other.seen == [] and TOKEN not in str(info.value)


def test_plex_self_signed_certificate_is_named_and_a_ca_bundle_fixes_it(
    tls_server: tuple[Recorder, Path],
) -> None:
    server, cert = tls_server
    server.plex = True
    url = server.url.replace("http://", "https://")
    client = plex_client(url)
    with pytest.raises(UnreachableError) as info:
        client.probe()
    client.close()
    assert "TLS" in info.value.title and "plex_ca_bundle" in info.value.message
    trusted = plex_client(url, plex_ca_bundle=str(cert))
    try:
        trusted.probe()
    finally:
        trusted.close()
    assert credentials_in(server.seen[-1]) == ["x-plex-token"]
