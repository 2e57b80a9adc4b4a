"""A simulator run as a child process (``python -m plexsync_sim``), for CLI and end-to-end tests.

``SimProcess("plex", "--token", "t", "--movies", "30")`` starts on a free port (or ``--port``),
waits for the ``ready`` line and exposes ``url``. ``stop()`` sends SIGTERM (an outage: the port
closes); ``start()`` again runs a new process on the same port, so in-memory state (edits,
faults, stats) starts over: use the in-process simulators when state must survive an outage.
``control(method, name, payload)`` calls ``/__sim__/<name>`` and returns the decoded JSON.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CONTROL_TIMEOUT = 30.0


class SimProcess:
    """One simulator process; ``kind`` is ``"plex"`` or ``"stash"``."""

    def __init__(self, kind: str, *args: str, port: int = 0, python: str = sys.executable) -> None:
        if kind not in ("plex", "stash"):
            raise ValueError("kind must be 'plex' or 'stash'")
        arguments = list(args)
        if "--port" in arguments:
            at = arguments.index("--port")
            port = int(arguments[at + 1])
            del arguments[at : at + 2]
        self.kind = kind
        self._args = arguments
        self._port = port
        self._python = python
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    @property
    def port(self) -> int:
        return self._port

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        if self.running:
            return self
        command = [self._python, "-m", "plexsync_sim", self.kind, *self._args]
        command += ["--port", str(self._port)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
        proc = subprocess.Popen(command, cwd=_ROOT, env=env, stdout=subprocess.PIPE, text=True)
        self._proc = proc
        line = self._ready_line(proc)
        if not line.startswith("ready http://"):
            self._terminate(proc, signal.SIGKILL)
            raise RuntimeError(f"the {self.kind} simulator did not start: {line!r}")
        self.url = line.split(" ", 1)[1].strip()
        self._port = int(self.url.rsplit(":", 1)[1])
        return self

    @staticmethod
    def _ready_line(proc: subprocess.Popen[str]) -> str:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            if not selector.select(READY_TIMEOUT):
                return ""
        return proc.stdout.readline()

    def stop(self) -> int | None:
        """SIGTERM and wait (SIGKILL after a timeout); returns the exit code. Idempotent."""
        proc, self._proc = self._proc, None
        return self._terminate(proc, signal.SIGTERM) if proc is not None else None

    def kill(self) -> int | None:
        proc, self._proc = self._proc, None
        return self._terminate(proc, signal.SIGKILL) if proc is not None else None

    @staticmethod
    def _terminate(proc: subprocess.Popen[str], signum: int) -> int:
        if proc.poll() is None:
            proc.send_signal(signum)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def control(self, method: str, name: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(
            f"{self.url}/__sim__/{name.lstrip('/')}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT) as answer:
            return json.loads(answer.read() or b"null")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
