"""Keep-alive HTTP connections to one origin, on the standard library's `http.client`.

Why not a urllib3 pool: at bulk-sync rates urllib3's own per-request work cost more CPU than
the engine's whole plan for a scene. Most of it was re-encoding the target byte by byte in
Python (a Plex edit's URL carries every field, percent-encoded), plus its header and timeout
objects; `bench/profile_engine.py` and the README performance table have the figures. What is
kept from `http.client`: request framing with header checks (no CR/LF injection), status and
header parsing with its size limits, Content-Length and chunked bodies, and an answer cut
short raised as `IncompleteRead`. TLS is the `ssl` module's default context (certificate and
host name checked, TLS 1.2 or later) with the configured CA file. What is added: 1xx answers
are read past to the final one (`engine/http/interim.py`: http.client takes a 103 as the
answer), and each body is read within a size and time limit, decoded within the same size
(`engine/http/limits.py`).

Failures are raised as requests' exception classes, as requests' adapter would name them, so
Plex and Stash failures are put into words by the same rules (`engine/http/session.py`).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass

import requests
from urllib3.util import wait_for_read

from engine.clock import SYSTEM_CLOCK, Clock
from engine.http.interim import FinalAnswerConnection, FinalAnswerHTTPSConnection
from engine.http.limits import (
    DEFAULT_LIMITS,
    AnswerLimits,
    Deadline,
    check_declared,
    decoding_reader,
    read_limited,
)


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: dict[str, str]  # a header sent twice is joined with ", ", as urllib3 does
    body: bytes  # decoded from gzip or deflate


class OriginConnections:
    """Up to `keep` idle connections to one origin, each used by one thread at a time."""

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int | None,
        *,
        ca_file: str,
        keep: int,
        limits: AnswerLimits = DEFAULT_LIMITS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._host, self._port, self._keep = host, port, keep
        self._limits, self._clock = limits, clock
        self._https, self._ca_file = scheme == "https", ca_file
        self._tls: ssl.SSLContext | None = None  # made at the first connection: see _context
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._generation = 0  # close() bumps it: connections out at the time are not kept

    def send(
        self,
        method: str,
        target: str,
        *,
        body: bytes | None,
        headers: dict[str, str],
        timeout: tuple[float | None, float | None],
    ) -> Answer:
        """One request on an idle connection (or a new one); the whole answer, read."""
        connection, generation = self._take()
        try:
            answer, reusable = self._exchange(connection, method, target, body, headers, timeout)
        except requests.RequestException:
            connection.close()  # never reused after a failure: its state is unknown
            raise
        except Exception as exc:
            connection.close()
            raise _as_requests_error(exc) from exc
        except BaseException:
            connection.close()
            raise
        self._give_back(connection, generation, reusable=reusable)
        return answer

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        body: bytes | None,
        headers: dict[str, str],
        timeout: tuple[float | None, float | None],
    ) -> tuple[Answer, bool]:
        if connection.sock is None:
            self._connect(connection, timeout[0])
        connection.sock.settimeout(timeout[1])
        deadline = Deadline(self._clock, self._limits.seconds)
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        fields = _joined(response)
        check_declared(fields, self._limits.max_bytes)
        coding = next((v for k, v in fields.items() if k.lower() == "content-encoding"), "")
        read1, raw_read = decoding_reader(_reader(response), coding.strip().lower())
        data = read_limited(read1, raw_read=raw_read, limits=self._limits, deadline=deadline)
        answer = Answer(response.status, response.reason, fields, data)
        return answer, not response.will_close

    def close(self) -> None:
        """Close the idle connections; those in use are closed when their answer is read."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for connection in idle:
            connection.close()

    def _take(self) -> tuple[http.client.HTTPConnection, int]:
        with self._lock:
            generation = self._generation
            while self._idle:
                connection = self._idle.pop()
                # Plex may have closed a connection while it was idle: a readable socket
                # here means it did, and the request would fail on it.
                if connection.sock is not None and not wait_for_read(connection.sock, 0.0):
                    return connection, generation
                connection.close()
        if not self._https:
            return FinalAnswerConnection(self._host, self._port), generation
        context = self._context()
        return FinalAnswerHTTPSConnection(self._host, self._port, context=context), generation

    def _context(self) -> ssl.SSLContext:
        """The TLS settings, read when first needed: an unreadable CA file is then a failed
        request that names it (and is read again next time), not a crash at start."""
        if self._tls is None:
            try:
                self._tls = ssl.create_default_context(cafile=self._ca_file)
            except (ssl.SSLError, OSError) as exc:
                raise requests.exceptions.SSLError(
                    f"the CA certificate file could not be used: {exc}"
                ) from exc
        return self._tls

    def _give_back(
        self, connection: http.client.HTTPConnection, generation: int, *, reusable: bool
    ) -> None:
        with self._lock:
            if reusable and generation == self._generation and len(self._idle) < self._keep:
                self._idle.append(connection)
                return
        connection.close()

    @staticmethod
    def _connect(connection: http.client.HTTPConnection, timeout: float | None) -> None:
        connection.timeout = timeout
        try:
            connection.connect()
        except ssl.SSLError as exc:  # a certificate not verified included
            raise requests.exceptions.SSLError(exc) from exc
        except TimeoutError as exc:
            raise requests.exceptions.ConnectTimeout(f"connect timed out ({exc})") from exc
        except OSError as exc:  # refused, no route, name not found
            raise requests.exceptions.ConnectionError(exc) from exc
        # http.client sends a request's headers and body in two writes; without this, Nagle's
        # algorithm and the server's delayed ACK can hold the body back ~40 ms (urllib3 sets it
        # too).
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _reader(response: http.client.HTTPResponse) -> Callable[[int], bytes]:
    """`response.read1`, which closes the response at its end: http.client's `read1` does not
    when the Content-Length is used up exactly (it asks the socket for 0 bytes and stops, 3.11
    `HTTPResponse.read1`), and a response not closed keeps its connection from the next request
    (`ResponseNotReady`). `read()` at the end reads nothing more and closes it. And `read1`
    takes a body cut short (before its Content-Length) for its end: that is raised here, as
    `read()` raises it (`IncompleteRead`)."""

    def read1(amt: int) -> bytes:
        data = response.read1(amt)
        if not data:
            if response.length:  # bytes still owed when the connection ended
                raise requests.exceptions.ChunkedEncodingError(
                    f"Connection broken: the answer ended {response.length} bytes short"
                )
            response.read()
        return data

    return read1


def _joined(response: http.client.HTTPResponse) -> dict[str, str]:
    headers: dict[str, str] = {}
    spelling: dict[str, str] = {}  # the first spelling of each name, whatever its case
    for name, value in response.getheaders():
        key = spelling.setdefault(name.lower(), name)
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _as_requests_error(exc: Exception) -> Exception:
    """A failure after connecting, as requests' adapter would raise it."""
    if isinstance(exc, ssl.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, TimeoutError):
        return requests.exceptions.ReadTimeout(f"read timed out ({exc})")
    if isinstance(exc, http.client.IncompleteRead):  # the body was cut short
        return requests.exceptions.ChunkedEncodingError(
            f"Connection broken: the answer ended after {len(exc.partial)} bytes"
        )
    if isinstance(exc, http.client.HTTPException | OSError):
        return requests.exceptions.ConnectionError(f"Connection aborted: {exc!r}")
    return exc
