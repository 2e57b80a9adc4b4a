"""The dispatcher's workers share one PlexClient: what one answer said (a 429's Retry-After)
must reach the worker it answered, whatever answers other workers get in between."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from engine.config import PlexSyncConfig
from engine.errors import TransientError
from engine.plex_client import PlexClient
from engine.plex_model import PlexItem

pytestmark = pytest.mark.integration

TOKEN = "plex-token-abcdef123"
ROOT = b'<MediaContainer size="0" machineIdentifier="m1" version="1.40.0"/>'
BUSY = PlexItem("1", "1", "t", "", "", "", (), (), (), ("/a",), 0)  # Plex answers it 429
CALM = PlexItem("2", "1", "t", "", "", "", (), (), (), ("/b",), 0)


class Plex(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(200, ROOT, [("Content-Type", "text/xml;charset=utf-8")])

    def do_PUT(self) -> None:
        if "id=1&" in self.path or self.path.endswith("id=1"):
            self._answer(429, b"", [("Retry-After", "100")])
        else:
            self._answer(200, b"", [])

    def _answer(self, code: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(code)
        for name, value in [("Content-Length", str(len(body))), *headers]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_429s_retry_after_is_not_lost_to_another_workers_answer() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Plex)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    client = PlexClient(
        PlexSyncConfig(plex_url=f"http://127.0.0.1:{server.server_port}", plex_token=TOKEN)
    )
    client.server()
    others: list[BaseException | None] = []

    def other_worker_answered_meanwhile(response: requests.Response, *_: Any, **__: Any) -> None:
        # Right after the 429 is heard, and before its worker reads it, another worker's
        # edit is sent and answered (what 4 requests in flight make happen by chance).
        if response.status_code == 429 and not others:

            def calm() -> None:
                try:
                    client.edit(CALM, {"title.value": "x"})
                    others.append(None)
                except BaseException as exc:
                    others.append(exc)

            worker = threading.Thread(target=calm)
            worker.start()
            worker.join(5)

    client._session.hooks["response"].append(other_worker_answered_meanwhile)
    try:
        with pytest.raises(TransientError) as info:
            client.edit(BUSY, {"title.value": "y"})
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        serving.join(5)
    assert others == [None]  # the other worker's edit went through
    assert info.value.retry_after == 100
