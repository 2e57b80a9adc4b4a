"""The client side of the local control channel, so the CLI acts through a running engine.

The engine writes where it listens and a per-start secret to `control.json` (0600, data dir);
see `control_server` and `control_protocol`. The client believes only a server that proves it
knows the secret, and never sends the secret itself, so a stale file left by a killed engine
cannot be used to catch it or to fake answers.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.control.protocol import (
    MAX_ANSWER,
    Answer,
    ClientHello,
    Endpoint,
    LineReader,
    ProtocolError,
    ServerHello,
    answer_body,
    canonical,
    decode,
    encode,
    mac,
    new_nonce,
    peer_uid,
    proof_matches,
    read_endpoint,
)

NOT_RUNNING = "no running engine"
BUSY_RETRIES = 15  # the server cuts idle peers off after 2 s: a slot frees up soon
BUSY_PAUSE = 0.2


class ControlError(Exception):
    """The running engine could not be reached or refused the command."""


class ChannelBusyError(ControlError):
    """The engine refused the connection: all its control connections are in use."""


class EngineNotRunningError(ControlError):
    """No engine answers at the address in the control file (none runs, or the file is stale)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(NOT_RUNNING)
        self.detail = detail


def _connect(endpoint: Endpoint, timeout: float) -> socket.socket:
    if endpoint.transport == "unix" and endpoint.path and hasattr(socket, "AF_UNIX"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(endpoint.path)
        except OSError:
            sock.close()
            raise
        uid = peer_uid(sock)
        if uid is not None and uid != _own_uid():
            sock.close()
            raise EngineNotRunningError("the control socket belongs to another user")
        return sock
    if endpoint.transport == "tcp" and endpoint.port:
        return socket.create_connection(("127.0.0.1", endpoint.port), timeout=timeout)
    raise EngineNotRunningError("the control file names no address")


def _own_uid() -> int | None:
    getuid = getattr(os, "getuid", None)
    return None if getuid is None else int(getuid())


def _converse(
    sock: socket.socket, endpoint: Endpoint, command: str, args: dict[str, Any], timeout: float
) -> Answer:
    reader = LineReader(sock, MAX_ANSWER)
    client_nonce = new_nonce()
    try:
        sock.sendall(encode(ClientHello(v=1, client_nonce=client_nonce).model_dump()))
    except (BrokenPipeError, ConnectionResetError):
        pass  # a busy server hangs up at once; the reason it sent first is still readable
    first = decode(reader.read_line(idle=timeout, total=timeout))
    if isinstance(first, dict) and first.get("ok") is False and "busy" in str(first.get("error")):
        raise ChannelBusyError("the running engine is busy; try again")
    hello = ServerHello.model_validate(first)
    nonces = (client_nonce, hello.server_nonce)
    if not proof_matches(mac(endpoint.secret, "server", *nonces), hello.proof):
        raise EngineNotRunningError("whatever listens there could not prove it is the engine")
    proof = mac(endpoint.secret, "client", *nonces, command, canonical(args))
    sock.sendall(encode({"command": command, "args": args, "proof": proof}))
    answer = Answer.model_validate(decode(reader.read_line(idle=timeout, total=timeout)))
    body = canonical(answer_body(answer.ok, answer.result, answer.error))
    if not proof_matches(mac(endpoint.secret, "answer", *nonces, body), answer.proof):
        raise EngineNotRunningError("the answer did not come from the engine")
    return answer


def call_running_engine(
    control_file: Path,
    command: str,
    args: dict[str, Any] | None = None,
    *,
    timeout: float = 35.0,
    sleep: Callable[[float], object] = time.sleep,
) -> Any:
    """Send a command to the running engine. Raises EngineNotRunningError if none answers."""
    endpoint = read_endpoint(control_file)
    if endpoint is None:
        raise EngineNotRunningError("no control file")
    for attempt in range(BUSY_RETRIES + 1):
        try:
            answer = _call(endpoint, command, dict(args or {}), timeout)
            break
        except ChannelBusyError:
            if attempt == BUSY_RETRIES:
                raise
            sleep(BUSY_PAUSE)
    if not answer.ok:
        raise ControlError(answer.error or "the command failed")
    return answer.result


def _call(endpoint: Endpoint, command: str, args: dict[str, Any], timeout: float) -> Answer:
    try:
        with _connect(endpoint, timeout) as sock:
            return _converse(sock, endpoint, command, args, timeout)
    except (OSError, ProtocolError, ValidationError) as exc:
        raise EngineNotRunningError(str(exc)) from exc


def engine_is_running(control_file: Path) -> bool:
    try:
        call_running_engine(control_file, "status", timeout=3.0)
    except ControlError:
        return False
    return True
