"""Shared HTTP plumbing for the simulators: a keep-alive server with stats and faults.

The server is a stdlib ``HTTPServer`` speaking HTTP/1.1 with ``Content-Length`` on every answer and
Nagle's algorithm disabled (without that, each keep-alive answer waits ~40 ms for a delayed ACK).
Every request body is read, even when unused, so that keep-alive never desynchronises. Clients that
hang up (timeout tests do) are ignored quietly.

``stop()`` closes the listening socket and every open keep-alive connection; ``start()`` after
``stop()`` binds the same port again, keeping the simulator's state, which models an outage.
"""

from __future__ import annotations

import logging
import math
import socket
import socketserver
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from plexsync_sim.faults import FaultRule, FaultSet, RequestStats
from plexsync_sim.messages import Request, Response, SimError, json_response, text_response
from plexsync_sim.ws_base import Upgrade, switch

__all__ = [
    "HOST",
    "Request",
    "Response",
    "SimError",
    "SimServer",
    "json_response",
    "text_response",
]

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
SIM_PREFIX = "/__sim__/"
MAX_BODY = 64 * 1024 * 1024
MAX_CHUNKS = 100_000
JOIN_TIMEOUT = 2.0
IDLE_TIMEOUT = 120.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT
    server: _Server

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError) as exc:
            logger.debug("connection ended: %s", exc)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise SimError(413, "request body too large")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        for _ in range(MAX_CHUNKS):
            size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                for _ in range(100):  # trailers up to the blank line
                    if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                        break
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise SimError(413, "request body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(8)
        raise SimError(413, "too many chunks")

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except (SimError, ValueError):
            self.close_connection = True
            self._send(text_response("bad request body", 400))
            return
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=unquote(split.path),
            query=split.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        response = self.server.sim.serve(request)
        if isinstance(response, Upgrade) and response.status == 101:
            self.close_connection = True
            switch(self.connection, request, response)  # runs until the websocket closes
            return
        if response is None:  # a dropped connection: no answer at all
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [
            f"HTTP/1.1 {response.status} {reason}",
            "Server: plexsync-sim",
            f"Content-Length: {len(response.body)}",
        ]
        if response.content_type:  # Go sends none with an empty body
            lines.insert(2, f"Content-Type: {response.content_type}")
        lines.extend(f"{name}: {value}" for name, value in response.headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + response.body)


class _Server(HTTPServer):
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: SimServer) -> None:
        self.sim = sim
        self._conns: dict[socket.socket, threading.Thread] = {}
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup that can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"{type(self.sim).__name__}-conn",
            daemon=True,
        )
        with self._conns_lock:
            self._conns[request] = thread
        self.sim._stats.connection()
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            logger.debug("connection from %s failed", client_address, exc_info=True)
        finally:
            self.shutdown_request(request)
            with self._conns_lock:
                self._conns.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("error serving %s", client_address)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns.items())
        for sock, _ in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _, thread in conns:
            thread.join(JOIN_TIMEOUT)


class SimServer:
    """Base class: lifecycle, ``/__sim__/stats`` and ``/__sim__/fault``, faults and stats.

    Subclasses implement ``route`` (the stats key of a request), ``handle`` (the answer to a
    counted request) and optionally ``control`` (other ``/__sim__/`` paths).
    """

    def __init__(self, *, port: int = 0) -> None:
        self._port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lifecycle = threading.Lock()
        self._faults = FaultSet()
        self._stats = RequestStats()
        # Simulated network and server time: per request, and per KiB of the request body.
        self.latency = 0.0
        self.latency_per_kb = 0.0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Self:
        with self._lifecycle:
            if self._httpd is not None:
                return self
            self._stopping = threading.Event()
            httpd = _Server((HOST, self._port), self)
            self._port = httpd.server_address[1]
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{type(self).__name__}-{self._port}",
                daemon=True,
            )
            self._thread.start()
            logger.info("%s listening on %s", type(self).__name__, self.url)
        return self

    def stop(self) -> None:
        with self._lifecycle:
            httpd, thread = self._httpd, self._thread
            if httpd is None:
                return
            self._stopping.set()
            httpd.shutdown()
            httpd.server_close()
            httpd.close_connections()
            if thread is not None:
                thread.join(JOIN_TIMEOUT)
            self._httpd = None
            self._thread = None
            logger.info("%s on port %d stopped", type(self).__name__, self._port)

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the simulator has not been started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- inspection and faults ---------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()

    def add_fault(
        self,
        match: str = ".*",
        status: int | None = 503,
        count: int | None = None,
        delay: float = 0.0,
        drop: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self._faults.add(match, status, count, delay, drop, retry_after)

    def clear_faults(self) -> None:
        self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        return self._faults.snapshot()

    # -- subclass hooks ------------------------------------------------------------------------
    def route(self, request: Request) -> str:
        return f"{request.method} {request.path}"

    def handle(self, request: Request) -> Response:
        raise SimError(404, "not found")

    def control(self, request: Request) -> Response | None:
        return None

    # -- dispatch ------------------------------------------------------------------------------
    def serve(self, request: Request) -> Response | None:
        """Answer one request; ``None`` means: close the connection without answering."""
        if request.path.startswith(SIM_PREFIX):
            return self._guarded(self._base_control, request)
        self._stats.record(request.method, self.route(request))
        delay = self.latency + self.latency_per_kb * len(request.body) / 1024
        if delay > 0 and self._stopping.wait(delay):
            return None  # stopped while waiting: the connection just closes
        rule = self._faults.take(f"{request.method} {request.path}")
        if rule is not None:
            if rule.delay > 0 and self._stopping.wait(rule.delay):
                return None  # stopped while delaying: the connection just closes
            if rule.drop:
                return None
            if rule.status is not None:
                return self._fault_response(rule)
        return self._guarded(self.handle, request)

    @staticmethod
    def _fault_response(rule: FaultRule) -> Response:
        try:
            phrase = HTTPStatus(rule.status or 500).phrase
        except ValueError:
            phrase = "Simulated fault"
        response = text_response(f"{rule.status} {phrase} (simulated)", rule.status or 500)
        if rule.retry_after is not None:
            response.headers["Retry-After"] = str(math.ceil(rule.retry_after))
        return response

    @staticmethod
    def _guarded(func: Callable[[Request], Response], request: Request) -> Response:
        try:
            return func(request)
        except SimError as exc:
            return text_response(exc.message, exc.status)
        except Exception:
            logger.exception("simulator failed on %s %s", request.method, request.path)
            return text_response("internal simulator error", 500)

    def _base_control(self, request: Request) -> Response:
        method, path = request.method, request.path.rstrip("/")
        if path == "/__sim__/stats":
            if method == "DELETE":
                self.reset_stats()
                return json_response(self.stats())
            if method == "GET":
                return json_response(self.stats())
        elif path == "/__sim__/latency" and method == "POST":
            body = request.json()
            self.latency = _milliseconds(body, "ms")
            self.latency_per_kb = _milliseconds(body, "per_kb_ms")
            return json_response(
                {"ms": self.latency * 1000, "per_kb_ms": self.latency_per_kb * 1000}
            )
        elif path == "/__sim__/fault":
            if method == "POST":
                rule = self._faults.add_from_json(request.json())
                return json_response(rule.as_dict())
            if method == "DELETE":
                self.clear_faults()
                return json_response({"faults": []})
            if method == "GET":
                return json_response({"faults": self.faults()})
        response = self.control(request)
        if response is None:
            raise SimError(404, f"unknown simulator control {method} {request.path}")
        return response


def _milliseconds(body: Any, name: str) -> float:
    """``body[name]`` in milliseconds (0 when absent), as seconds; SimError when not a number."""
    value = body.get(name, 0) if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 60_000:
        raise SimError(400, f'"{name}" must be a number of milliseconds (0-60000)')
    return float(value) / 1000
