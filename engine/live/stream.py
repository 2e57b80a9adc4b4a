"""One live-update stream on its own daemon thread: connect, read, reconnect with backoff.

The thread never touches the engine's state: a stream hands each signal to `deliver`, which only
queues a command for the engine thread. Failures here are never the breaker's business (polling
still runs and counts its own); they are logged once per streak at INFO, then at DEBUG, and
retried with jittered backoff, or after the cap when the server will not upgrade (below).
`stop()` ends the thread within a second, closing its socket even in the middle of a connect.
Every failure is caught (a bad message, a redirect, a bug): none ends the thread. The backoff
starts again from its base only once a connection has lasted STABLE_AFTER seconds, so a server
that accepts and closes at once is tried less and less often, and said once in the log. Each
change of state (off and why, or live) goes to `on_state`, for the engine's status.

Jittered backoff covers failures that end by themselves: no connection, a dropped one, and an
upgrade refused with 5xx, 408 or 429, which is what a proxy answers while the server behind it
restarts (502, 504) and what Plex answers while it is still starting (503, as plexapi's
`tools/plex-bootstraptest.py` waits out). Those are retried within seconds. An upgrade refused
for good (another 4xx: a proxy that does not pass websockets, an endpoint that is not one, a bad
token) or answered without an upgrade (an old server) waits the cap: only new settings change
that, and new settings end any wait at once.
"""

from __future__ import annotations

import errno
import logging
import random
import select
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from engine.clock import SYSTEM_CLOCK, Clock
from engine.config.file import PlexSyncConfig
from engine.live.messages import LiveEvent
from engine.masking import mask_text

logger = logging.getLogger(__name__)

SLICE = 0.25  # seconds: how often blocking waits look at the stop flag
CONNECT_TIMEOUT = 10.0
OPEN_TIMEOUT = 10.0  # TLS and the websocket handshake
PING_INTERVAL = 30.0  # a silent dead connection (NAT, sleep) is noticed within a minute
IDLE_RECHECK = 5.0  # live updates off or not configured: look at the settings again after this
# Refused upgrades that end by themselves besides any 5xx (a restart): 408 and 429 (busy).
SOON_STATUSES = frozenset({408, 429})
# A connection must stay up this long before the backoff starts again from its base: a server
# that accepts and closes at once would otherwise be retried every 1-2 s for ever (issue 22).
STABLE_AFTER = 60.0


class StreamEndedError(Exception):
    """The server ended the stream in a way the protocol allows (complete, error)."""


@dataclass(frozen=True)
class Backoff:
    """Full-range jittered exponential backoff: `uniform(0.5, 1) * min(cap, base * 2**n)`."""

    base: float = 2.0
    cap: float = 600.0

    def delay(self, failures: int, rng: random.Random) -> float:
        window = min(self.cap, self.base * 2.0 ** min(max(failures - 1, 0), 32))
        return window * rng.uniform(0.5, 1.0)


@dataclass(frozen=True)
class Target:
    """Where a stream connects; `shown` is the URL as logs may show it (no secrets)."""

    url: str
    shown: str
    headers: dict[str, str] = field(default_factory=dict)
    subprotocols: tuple[str, ...] = ()
    ca_bundle: str = ""


class Stream(Protocol):
    """A server's stream: where to connect for a config, and how to talk once connected."""

    name: str

    def target(self, config: PlexSyncConfig) -> Target | None: ...
    def session(
        self,
        connection: ClientConnection,
        deliver: Callable[[LiveEvent], None],
        keep_going: Callable[[], bool],
    ) -> None: ...


def ws_url(http_url: str, path: str) -> str:
    """The websocket URL on the configured origin: only the scheme changes (http→ws)."""
    parts = urlsplit(http_url)
    scheme = {"http": "ws", "https": "wss"}[parts.scheme.lower()]
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}{path}"


class _MaskingLogger(logging.LoggerAdapter[logging.Logger]):
    """websockets logs request lines and headers at DEBUG: mask tokens and keys in them."""

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            text = str(msg) % args if args else str(msg)
            self.logger.log(level, mask_text(text), **kwargs)


WIRE_LOGGER = _MaskingLogger(logging.getLogger("engine.live.stream.wire"))


class StreamWorker:
    """Runs `stream` on a daemon thread until `stop()`; the config is read at each connect."""

    def __init__(
        self,
        stream: Stream,
        *,
        config: Callable[[], PlexSyncConfig],
        deliver: Callable[[LiveEvent], None],
        rng: random.Random,
        backoff: Backoff | None = None,
        wait: Callable[[float], bool] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        on_state: Callable[[str, str | None], None] | None = None,
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._on_state = on_state or (lambda name, reason: None)
        self._reported: str | None = None
        self._told_connected = False  # "connected" said at INFO in this streak
        self._told_flapping = False  # "keep ending soon after connecting" said in this streak
        self._config = config
        self._deliver = deliver
        self._rng = rng
        self._backoff = backoff or Backoff()
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait  # True when stopping; tests record the waits
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.connections = 0  # sessions opened (for tests and the log)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._main, name=f"live-{self._stream.name}", daemon=True
        )
        self._thread.start()

    def request_stop(self) -> None:
        """Wake any wait and shut the socket so reads and connects return (any thread)."""
        self._stop.set()
        with self._lock:
            if self._socket is not None:
                _shutdown(self._socket)

    def stop(self, timeout: float = 1.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # not an Exception (`_run` takes those): say so, then die
            self._report(f"the thread stopped ({type(exc).__name__})")
            raise  # to threading.excepthook, which logs it masked (engine.excepthooks)

    def _run(self) -> None:
        while not self._stop.is_set():
            config = self._config()
            try:
                delay = self._cycle(config)
            except Exception as exc:  # a bug or a failure nobody foresaw: never the thread's end
                delay = self._failed(exc, connected_for=None)
            self._pause(delay, config)

    def _cycle(self, config: PlexSyncConfig) -> float:
        target = self._stream.target(config)
        if target is None:
            self.failures = 0
            self._report(None)
            return IDLE_RECHECK
        return self._attempt(target, config)

    def _pause(self, delay: float, config: PlexSyncConfig) -> None:
        """Wait `delay` seconds in steps of one; new settings or stop() end the wait early."""
        whole, rest = divmod(delay, 1.0)
        for step in [1.0] * int(whole) + ([rest] if rest > 0 else []):
            if self._wait(step) or self._stop.is_set() or self._config() is not config:
                return

    def _attempt(self, target: Target, config: PlexSyncConfig) -> float:
        """One connection from connect to close; returns the wait before the next.

        Every failure is caught here (`Exception`): a stream's end, a refused or redirected
        upgrade (websockets raises ValueError for a redirect with our own socket,
        `websockets/sync/client.py` `process_redirect`), a message no parser foresaw. Polling
        goes on either way; only the wait before the next try differs."""
        connected_at: float | None = None
        try:
            sock = self._open_socket(target)
            try:
                with self._connect(sock, target) as connection:
                    connected_at = self._clock.monotonic()
                    self._connected(target)
                    self._stream.session(
                        connection,
                        self._deliver,
                        lambda: self._keep_going(config, connected_at),
                    )
            finally:
                with self._lock:
                    self._socket = None
                sock.close()
        except Exception as exc:
            if self._stop.is_set():
                return 0.0
            up = None if connected_at is None else self._clock.monotonic() - connected_at
            return self._failed(exc, connected_for=up)
        # The session ended because the settings changed or we stop: reconnect at once.
        return 0.0 if self._config() is not config else self._backoff.base

    def _keep_going(self, config: PlexSyncConfig, connected_at: float) -> bool:
        """The session goes on; once it has lasted STABLE_AFTER, a new streak starts."""
        if self.failures and self._clock.monotonic() - connected_at >= STABLE_AFTER:
            self._steady()
        return not self._stop.is_set() and self._config() is config

    def _connected(self, target: Target) -> None:
        self.connections += 1
        telling = self.failures > 0 and not self._told_connected
        log = logger.info if telling else logger.debug
        log("Live updates from %s connected (%s)", self._stream.name, target.shown)
        self._told_connected = self._told_connected or telling
        if self.failures <= 1:  # a single drop (a restart) is over; a streak waits to be steady
            self._report(None)

    def _steady(self) -> None:
        """A connection stayed up STABLE_AFTER seconds: the backoff starts again from its base."""
        logger.debug("Live updates from %s are steady again", self._stream.name)
        self.failures = 0
        self._told_connected = self._told_flapping = False
        self._report(None)

    def _failed(self, exc: BaseException, *, connected_for: float | None) -> float:
        if connected_for is not None and connected_for >= STABLE_AFTER:
            self._steady()  # it was up long enough: this failure begins a new streak
        self.failures += 1
        forever = _refused_for_good(exc, connected_before=self.connections > 0)
        delay = self._backoff.cap if forever else self._backoff.delay(self.failures, self._rng)
        reason = _one_line(f"{type(exc).__name__}: {mask_text(str(exc))}")
        log = logger.info if self.failures == 1 else logger.debug
        log(
            "Live updates from %s unavailable (%s); polling continues, next try in %.0f s",
            self._stream.name,
            reason,
            delay,
        )
        if connected_for is not None and not self._told_flapping and self.failures > 1:
            self._told_flapping = True
            logger.info(
                "Live updates from %s keep ending soon after connecting; retrying with a growing "
                "wait (up to %.0f s) until a connection lasts %.0f s",
                self._stream.name,
                self._backoff.cap,
                STABLE_AFTER,
            )
        self._report(reason)
        return delay

    def _report(self, reason: str | None) -> None:
        """Tell the engine (its status) whether this stream is live, and why not; on change."""
        if reason != self._reported:
            self._reported = reason
            self._on_state(self._stream.name, reason)

    def _open_socket(self, target: Target) -> socket.socket:
        """A TCP connection that `stop()` can interrupt (connect in slices of SLICE)."""
        parts = urlsplit(target.url)
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        last: OSError = OSError(errno.EHOSTUNREACH, "no address")
        for family, kind, proto, _, address in socket.getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM
        ):
            sock = socket.socket(family, kind, proto)
            with self._lock:
                self._socket = sock
            try:
                self._connect_in_slices(sock, address)
                return sock
            except OSError as exc:
                with self._lock:
                    self._socket = None
                sock.close()
                last = exc
                if self._stop.is_set():
                    break
        raise last

    def _connect_in_slices(self, sock: socket.socket, address: Any) -> None:
        sock.setblocking(False)
        code = sock.connect_ex(address)
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
            raise OSError(code, errno.errorcode.get(code, "connect failed"))
        for _ in range(int(CONNECT_TIMEOUT / SLICE)):
            if self._stop.is_set():
                raise OSError(errno.ECANCELED, "stopping")
            _, writable, _ = select.select([], [sock], [], SLICE)
            if writable:
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    raise OSError(code, errno.errorcode.get(code, "connect failed"))
                sock.setblocking(True)
                return
        raise TimeoutError("timed out connecting")

    @staticmethod
    def _connect(sock: socket.socket, target: Target) -> ClientConnection:
        context = None
        if target.url.startswith("wss:"):
            context = ssl.create_default_context(cafile=target.ca_bundle or None)
        return connect(
            target.url,
            sock=sock,
            ssl=context,
            additional_headers=target.headers,
            subprotocols=[Subprotocol(name) for name in target.subprotocols] or None,
            open_timeout=OPEN_TIMEOUT,
            ping_interval=PING_INTERVAL,
            ping_timeout=PING_INTERVAL,
            close_timeout=SLICE,
            logger=WIRE_LOGGER,
            user_agent_header="PlexSync Tray",
        )


def _refused_for_good(exc: BaseException, *, connected_before: bool) -> bool:
    """Whether retrying soon is pointless: the upgrade will not happen until settings change.

    A redirect is one: websockets cannot follow it on our socket and raises ValueError from
    the 3xx InvalidStatus (`process_redirect`); following it would carry the token elsewhere."""
    if isinstance(exc, ValueError) and isinstance(exc.__cause__, InvalidStatus):
        exc = exc.__cause__
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        return not (status >= 500 or status in SOON_STATUSES)
    return isinstance(exc, InvalidURI) or (
        isinstance(exc, InvalidHandshake) and not connected_before
    )


def _one_line(text: str, limit: int = 200) -> str:
    """A reason fit for a log line and the tray: one line (a proxy's HTML page is not), short."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
