"""A local control channel, so the CLI acts through a running engine instead of behind its back.

The engine host listens on 127.0.0.1 (port chosen by the OS) and writes the port and a random
secret to a 0600 file in the data dir. Each request is one JSON line; the answer is one JSON line.
State-changing commands run on the engine thread through `SyncEngine.execute`.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.status import status_to_dict
from engine.sync import SyncEngine

logger = logging.getLogger(__name__)

REQUEST_LIMIT = 64 * 1024
COMMAND_TIMEOUT = 30.0


class ControlError(Exception):
    """The running engine could not be reached or refused the command."""


def _status_dict(engine: SyncEngine) -> dict[str, Any]:
    return status_to_dict(engine.status())


def _commands(engine: SyncEngine) -> dict[str, Callable[[dict[str, Any]], Any]]:
    """Each command runs on the engine thread; the answer waits until it has."""
    store = engine.store

    def on_engine(work: Callable[[], Any]) -> Any:
        return engine.execute(work).result(COMMAND_TIMEOUT)

    def after(send: Callable[[], None]) -> None:
        send()
        on_engine(lambda: None)  # commands run in order: this one waits for `send`'s

    def ids(args: dict[str, Any]) -> list[int] | None:
        raw = args.get("ids")
        return None if raw is None else [int(i) for i in raw]

    return {
        "status": lambda a: _status_dict(engine),
        "sync_now": lambda a: after(engine.sync_now),
        "retry_now": lambda a: after(engine.retry_now),
        "breaker_reset": lambda a: after(engine.reset_breaker),
        "pause": lambda a: after(lambda: engine.pause(a.get("until"))),
        "resume": lambda a: after(engine.resume),
        "dlq_retry": lambda a: on_engine(lambda: store.dlq_retry(ids(a))),
        "dlq_delete": lambda a: on_engine(lambda: store.dlq_delete(ids(a))),
        "dlq_purge": lambda a: on_engine(lambda: store.dlq_purge(float(a["older_than_days"]))),
    }


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        try:
            line = self.rfile.readline(REQUEST_LIMIT)
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not an object")
            given = str(request.get("secret", ""))
            if not hmac.compare_digest(given, self.server.secret):
                answer: dict[str, Any] = {"ok": False, "error": "not authorised"}
            else:
                answer = self.server.dispatch(str(request.get("command")), request.get("args"))
        except (ValueError, UnicodeDecodeError):
            answer = {"ok": False, "error": "malformed request"}
        try:
            self.wfile.write(json.dumps(answer).encode() + b"\n")
        except OSError:
            pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, engine: SyncEngine, secret: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = secret
        self.commands = _commands(engine)

    def dispatch(self, name: str, args: Any) -> dict[str, Any]:
        command = self.commands.get(name)
        if command is None:
            return {"ok": False, "error": f"unknown command {name!r}"}
        try:
            result = command(args if isinstance(args, dict) else {})
        except Exception as exc:
            logger.warning("Control command %s failed: %s", name, exc)
            return {"ok": False, "error": str(exc) or type(exc).__name__}
        return {"ok": True, "result": result}


class ControlServer:
    """Serves the control channel for one engine while the host runs."""

    def __init__(self, engine: SyncEngine, control_file: Path) -> None:
        self._file = control_file
        self._server = _Server(engine, secrets.token_urlsafe(32))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="plexsync-control", daemon=True
        )

    def start(self) -> ControlServer:
        self._thread.start()
        port = self._server.server_address[1]
        data = json.dumps({"port": port, "secret": self._server.secret, "pid": os.getpid()})
        tmp = self._file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(data)
        tmp.replace(self._file)
        return self

    def stop(self) -> None:
        try:
            current = json.loads(self._file.read_text())
            if current.get("secret") == self._server.secret:
                self._file.unlink()
        except (OSError, ValueError):
            pass
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)


def call_running_engine(
    control_file: Path, command: str, args: dict[str, Any] | None = None, *, timeout: float = 35.0
) -> Any:
    """Send a command to the running engine. Raises ControlError if none answers."""
    try:
        info = json.loads(control_file.read_text())
        port, secret = int(info["port"]), str(info["secret"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ControlError("no running engine") from exc
    request = json.dumps({"secret": secret, "command": command, "args": args or {}})
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(request.encode() + b"\n")
            reader = conn.makefile("rb")
            line = reader.readline(REQUEST_LIMIT * 16)
            reader.close()
    except OSError as exc:
        raise ControlError("no running engine") from exc
    try:
        answer = json.loads(line)
    except ValueError as exc:
        raise ControlError("the running engine sent a malformed answer") from exc
    if not answer.get("ok"):
        raise ControlError(str(answer.get("error") or "the command failed"))
    return answer.get("result")


def engine_is_running(control_file: Path) -> bool:
    try:
        call_running_engine(control_file, "status", timeout=3.0)
    except ControlError:
        return False
    return True
