"""One instance per user (and per config dir): a second launch asks the first to show itself.

A `QLockFile` in the data dir decides who is first (a crashed instance's lock is stale and is
taken over); the first instance then listens on a `QLocalServer` named by app, user and config
dir. A later launch connects, sends one JSON line (`{"command": "show", "argv": [...]}`), waits
for `ok` and exits 0.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
from pathlib import Path

from PySide6.QtCore import QDeadlineTimer, QLockFile, QObject, QThread, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

logger = logging.getLogger(__name__)

MAX_MESSAGE = 64 * 1024


def instance_name(data_dir: Path) -> str:
    """`plexsync-tray-<user>-<hash of the data dir>`: one instance per user and config dir."""
    user = str(os.getuid()) if hasattr(os, "getuid") else getpass.getuser()
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    return f"plexsync-tray-{user}-{digest}"


class SingleInstance(QObject):
    """Call `acquire()`: True makes this the first instance; otherwise `notify_first()`."""

    activation_requested = Signal(list)  # the argv of the later launch

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.name = instance_name(data_dir)
        self._lock = QLockFile(str(data_dir / "instance.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        self._server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytes] = {}

    def acquire(self) -> bool:
        if not self._lock.tryLock(100):
            return False
        QLocalServer.removeServer(self.name)  # a socket left behind by a crashed instance
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.newConnection.connect(self._on_new_connection)
        if not server.listen(self.name):
            logger.warning("Could not listen for later launches: %s", server.errorString())
        else:
            self._server = server
        return True

    def notify_first(self, argv: list[str], *, timeout_s: float = 5.0) -> bool:
        """Ask the running instance to show itself; retried while it is still starting up."""
        deadline = QDeadlineTimer(round(timeout_s * 1000))
        payload = json.dumps({"command": "show", "argv": argv}).encode() + b"\n"
        while True:
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(500):
                socket.write(payload)
                socket.flush()
                if socket.waitForBytesWritten(1000) or socket.bytesToWrite() == 0:
                    answered = socket.waitForReadyRead(2000)
                    reply = bytes(socket.readAll().data()).strip()
                    socket.disconnectFromServer()
                    if answered and reply == b"ok":
                        return True
            socket.abort()
            if deadline.hasExpired():
                return False
            QThread.msleep(100)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()

    @Slot()
    def _on_new_connection(self) -> None:
        server = self._server
        while server is not None and server.hasPendingConnections():
            socket = server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._on_ready_read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            if socket.bytesAvailable():
                self._on_ready_read(socket)

    def _on_ready_read(self, socket: QLocalSocket) -> None:
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        if b"\n" not in data:
            if len(data) > MAX_MESSAGE:
                socket.abort()
            else:
                self._buffers[socket] = data
            return
        line = data.split(b"\n", 1)[0]
        self._buffers[socket] = b""
        try:
            message = json.loads(line)
            argv = [str(arg) for arg in message.get("argv", [])]
            command = message.get("command")
        except (ValueError, AttributeError, TypeError):
            logger.warning("Ignored a malformed message from a later launch")
            socket.abort()
            return
        socket.write(b"ok\n")
        socket.flush()
        socket.disconnectFromServer()
        if command == "show":
            logger.info("A later launch asked this instance to show itself")
            self.activation_requested.emit(argv)

    def _forget(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()
