"""The engine's side of the control channel: bounded, authenticated, and never in sync's way.

On POSIX it listens on a Unix socket in a private (0700) directory and refuses peers of another
uid; elsewhere (or without a usable private dir) on 127.0.0.1 with an OS-chosen port. Either
way both ends prove knowledge of the per-start secret (see `control_protocol`). Connections are
bounded: at most `max_connections` at once (more are closed at once), an idle and a read timeout
per message, and a size limit. The channel runs on its own threads; unauthenticated peers never
reach the engine, so nothing they do can slow syncing down.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.control.commands import CommandTable, Reply
from engine.control.protocol import (
    ClientHello,
    Endpoint,
    LineReader,
    MalformedError,
    ProtocolError,
    Request,
    answer_body,
    canonical,
    decode,
    encode,
    mac,
    new_nonce,
    new_secret,
    peer_uid,
    proof_matches,
    read_endpoint,
    write_endpoint,
)
from engine.sync.engine import SyncEngine

logger = logging.getLogger(__name__)

BUSY = encode({"ok": False, "error": "busy: too many control connections; try again"})
ACCEPT_POLL = 0.5  # how often the acceptor notices stop()


@dataclass(frozen=True)
class ChannelLimits:
    max_connections: int = 8
    idle_timeout: float = 2.0  # for the first byte of a message
    read_timeout: float = 5.0  # for the rest of it
    max_message: int = 64 * 1024


class ControlServer:
    """Serves the control channel for one engine while the host runs."""

    def __init__(
        self,
        engine: SyncEngine,
        control_file: Path,
        *,
        socket_path: Path | None = None,
        limits: ChannelLimits | None = None,
    ) -> None:
        self._file = control_file
        self._socket_path = socket_path
        self._limits = limits or ChannelLimits()
        self._commands = CommandTable(engine)
        self._secret = new_secret()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._active: set[socket.socket] = set()
        self._handlers: set[threading.Thread] = set()
        self._listener = self._listen()
        self._acceptor = threading.Thread(
            target=self._accept_loop, name="plexsync-control", daemon=True
        )

    # --- life cycle ----------------------------------------------------------------------------

    def _listen(self) -> socket.socket:
        path = self._socket_path
        if path is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
        else:
            # The caller holds the engine lock, so a socket file here was left by a dead engine.
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(str(path))
            path.chmod(0o600)
        sock.listen(16)
        sock.settimeout(ACCEPT_POLL)
        return sock

    @property
    def endpoint(self) -> Endpoint:
        if self._socket_path is not None:
            return Endpoint(
                transport="unix", path=str(self._socket_path), secret=self._secret, pid=os.getpid()
            )
        port = int(self._listener.getsockname()[1])
        return Endpoint(transport="tcp", port=port, secret=self._secret, pid=os.getpid())

    def start(self) -> ControlServer:
        self._acceptor.start()
        write_endpoint(self._file, self.endpoint)
        return self

    def stop(self) -> None:
        current = read_endpoint(self._file)
        if current is not None and current.secret == self._secret:
            with contextlib.suppress(OSError):
                self._file.unlink()
        self._stop.set()
        with self._lock:
            for conn in self._active:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            handlers = list(self._handlers)
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux
        self._acceptor.join(timeout=2 * ACCEPT_POLL + 1)
        for handler in handlers:
            handler.join(timeout=1.0)
        self._listener.close()
        if self._socket_path is not None:
            with contextlib.suppress(OSError):
                self._socket_path.unlink()

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._active)

    # --- accepting -----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                logger.warning("The control channel could not accept a connection", exc_info=True)
                self._stop.wait(ACCEPT_POLL)  # e.g. out of file handles: back off, don't spin
                continue
            self._admit(conn)

    def _admit(self, conn: socket.socket) -> None:
        """Refuse at once what is over the limit or from another user; serve the rest."""
        if not self._same_user(conn):
            conn.close()
            return
        with self._lock:
            if len(self._active) >= self._limits.max_connections:
                refused = True
            else:
                refused = False
                self._active.add(conn)
        if refused:
            with contextlib.suppress(OSError):
                conn.setblocking(False)
                conn.send(BUSY)
            conn.close()
            return
        handler = threading.Thread(target=self._serve, args=(conn,), daemon=True)
        with self._lock:
            self._handlers.add(handler)
        handler.start()

    @staticmethod
    def _same_user(conn: socket.socket) -> bool:
        try:
            uid = peer_uid(conn)
        except OSError:
            return False
        return uid is None or uid == os.getuid()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._converse(conn)
        except MalformedError:
            with contextlib.suppress(OSError):
                conn.sendall(encode({"ok": False, "error": "malformed request"}))
        except ProtocolError as exc:
            logger.debug("Control connection dropped: %s", exc)
        except OSError:
            logger.debug("Control connection failed", exc_info=True)
        except Exception:  # a bug here must not leak a traceback to the peer or kill the channel
            logger.exception("The control channel failed on a request")
        finally:
            with self._lock:
                self._active.discard(conn)
                self._handlers.discard(threading.current_thread())
            conn.close()

    # --- one conversation ----------------------------------------------------------------------

    def _converse(self, conn: socket.socket) -> None:
        limits = self._limits
        reader = LineReader(conn, limits.max_message)

        def receive() -> Any:
            return decode(reader.read_line(idle=limits.idle_timeout, total=limits.read_timeout))

        conn.settimeout(limits.read_timeout)
        try:
            hello = ClientHello.model_validate(receive())
        except ValidationError:
            conn.sendall(encode({"ok": False, "error": "malformed request: expected a hello"}))
            return
        server_nonce = new_nonce()
        nonces = (hello.client_nonce, server_nonce)
        proof = mac(self._secret, "server", *nonces)
        conn.sendall(encode({"v": 1, "server_nonce": server_nonce, "proof": proof}))
        reply = self._answer(receive(), nonces)
        body = answer_body(reply.ok, reply.result, reply.error)
        body["proof"] = mac(self._secret, "answer", *nonces, canonical(body))
        conn.settimeout(limits.read_timeout)
        conn.sendall(encode(body))

    def _answer(self, raw: Any, nonces: tuple[str, str]) -> Reply:
        try:
            request = Request.model_validate(raw)
        except ValidationError:
            return Reply(False, error="malformed request")
        expected = mac(self._secret, "client", *nonces, request.command, canonical(request.args))
        if not proof_matches(expected, request.proof):
            logger.warning("A control request without a valid proof was refused")
            return Reply(False, error="not authorised")
        return self._commands.run(request.command, request.args)
