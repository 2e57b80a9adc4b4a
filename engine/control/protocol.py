"""The control channel's wire format: the endpoint file, the mutual proof and bounded framing.

Every message is one JSON line. A conversation is four lines:

    client -> server  {"v": 1, "client_nonce": N1}
    server -> client  {"v": 1, "server_nonce": N2, "proof": mac("server", N1, N2)}
    client -> server  {"command": ..., "args": {...}, "proof": mac("client", N1, N2, command, args)}
    server -> client  {"ok": ..., "result": ..., "error": ..., "proof": mac("answer", N1, N2, body)}

`mac` is HMAC-SHA256 keyed with the per-start secret from the endpoint file, with a label per
direction so no proof can be reflected. The secret itself never crosses the wire, the server
proves itself before the client says anything that depends on the secret, and an answer that
does not carry the server's proof is not believed (a process that took over a dead engine's
address learns nothing and cannot fake answers).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import socket
import stat
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1
MAX_ANSWER = 1024 * 1024
SOCKET_PATH_MAX = 100  # AF_UNIX paths are limited to 104 (macOS) or 108 (Linux) bytes

NONCE = r"^[0-9a-f]{32}$"
PROOF = r"^[0-9a-f]{64}$"


class ProtocolError(Exception):
    """A message broke the protocol (too big, too slow, not JSON, wrong shape)."""


class MalformedError(ProtocolError):
    """A complete line arrived, but it is not JSON (bad UTF-8, a nesting bomb, garbage)."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Endpoint(_Message):
    """What `control.json` says: where the engine listens and the secret it proves itself with."""

    transport: Literal["unix", "tcp"]
    path: str | None = None  # the socket (unix)
    port: int | None = Field(default=None, ge=1, le=65535)  # on 127.0.0.1 (tcp)
    secret: str = Field(pattern=r"^[A-Za-z0-9_-]{32,128}$")
    pid: int


class ClientHello(_Message):
    v: Literal[1]
    client_nonce: str = Field(pattern=NONCE)


class ServerHello(_Message):
    v: Literal[1]
    server_nonce: str = Field(pattern=NONCE)
    proof: str = Field(pattern=PROOF)


class Request(_Message):
    command: str = Field(max_length=64)
    args: dict[str, Any] = Field(default_factory=dict)
    proof: str = Field(pattern=PROOF)


class Answer(_Message):
    ok: bool
    result: Any = None
    error: str | None = None
    proof: str = Field(pattern=PROOF)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_nonce() -> str:
    return secrets.token_hex(16)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def mac(secret: str, label: str, *parts: str) -> str:
    """HMAC-SHA256 over a label and parts; NUL-separated so no two part lists collide."""
    message = "\x00".join((label, *parts)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def proof_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def answer_body(ok: bool, result: Any, error: str | None) -> dict[str, Any]:
    return {"ok": ok, "result": result, "error": error}


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=True).encode() + b"\n"


def decode(line: bytes) -> Any:
    """JSON from one line; anything that is not (bad UTF-8, nesting bombs) is a ProtocolError."""
    try:
        return json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise MalformedError("malformed request: not a JSON line") from exc


class LineReader:
    """Reads lines from a socket with a size limit, an idle timeout and a per-line deadline."""

    def __init__(
        self, sock: socket.socket, limit: int, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._sock = sock
        self._limit = limit
        self._monotonic = monotonic
        self._buffer = b""

    def read_line(self, *, idle: float, total: float) -> bytes:
        """Wait up to `idle` s for the first byte, then up to `total` s for the whole line."""
        started = self._monotonic()
        deadline = started + idle if not self._buffer else started + total
        while b"\n" not in self._buffer:
            if len(self._buffer) > self._limit:
                raise ProtocolError("message too large")
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise ProtocolError("timed out")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(4096)
            except TimeoutError as exc:
                raise ProtocolError("timed out") from exc
            if not chunk:
                raise ProtocolError("connection closed")
            if not self._buffer:
                deadline = self._monotonic() + total  # the message has begun
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        if len(line) > self._limit:
            raise ProtocolError("message too large")
        return line


# --- the endpoint file and where the socket lives --------------------------------------------


def write_endpoint(control_file: Path, endpoint: Endpoint) -> None:
    """Atomically replace the file (0600): a stale one from a killed engine is overwritten."""
    tmp = control_file.with_name(f".{control_file.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(endpoint.model_dump_json())
    tmp.replace(control_file)


def read_endpoint(control_file: Path) -> Endpoint | None:
    """The endpoint, or None when the file is missing or not one of ours."""
    try:
        return Endpoint.model_validate_json(control_file.read_bytes())
    except (OSError, ValueError):
        return None


def _private_dir(directory: Path) -> bool:
    """True if `directory` is ours alone (0700, our uid) inside a parent others cannot rewrite."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return False
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = directory.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != getuid():
            return False
        if stat.S_IMODE(info.st_mode) != 0o700:
            directory.chmod(0o700)
        parent = directory.parent.stat()
    except OSError:
        return False
    if parent.st_uid not in (getuid(), 0):
        return False
    writable_by_others = parent.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return not writable_by_others or bool(parent.st_mode & stat.S_ISVTX)


def choose_socket_path(data_dir: Path, runtime_dir: Path | None) -> Path | None:
    """A Unix socket path in a private dir (the runtime dir first, then the data dir), or None."""
    if not hasattr(socket, "AF_UNIX") or not hasattr(os, "getuid"):
        return None
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    candidates = [(data_dir, "control.sock")]
    if runtime_dir is not None:
        candidates.insert(0, (runtime_dir, f"control-{digest}.sock"))
    for directory, name in candidates:
        path = directory / name
        if len(os.fsencode(path)) <= SOCKET_PATH_MAX and _private_dir(directory):
            return path
    return None


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket, where the OS tells it."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None or sock.family != getattr(socket, "AF_UNIX", None):
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return int(uid)
