"""A real Secret Service for the keyring tests: gnome-keyring's daemon on a private session bus.

`dbus-daemon` listens on a socket in a short temporary directory; `gnome-keyring-daemon` runs in
the foreground on that bus with its keyrings under the same directory, unlocked with a known
password given on stdin (`--unlock`). Both are stopped, and the directory removed, on exit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Self

from session_bus import BUS_CONFIG
from x11_desktop import wait_until

PASSWORD = "e2e-login-password"
TOOLS = {
    "dbus-daemon": "dbus-daemon",
    "gdbus": "libglib2.0-bin",
    "gnome-keyring-daemon": "gnome-keyring",
}


def missing_packages() -> list[str]:
    return sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})


class KeyringSession:
    """The bus and the keyring daemon; `env()` is what a process needs to use them."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pskr-"))  # socket paths must stay short
        self.socket = self.dir / "bus"
        self.children: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
        runtime = self.dir / "run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env.update(
            DBUS_SESSION_BUS_ADDRESS=f"unix:path={self.socket}",
            XDG_DATA_HOME=str(self.dir / "data"),  # the daemon's keyring files
            XDG_RUNTIME_DIR=str(runtime),
        )
        return env

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        config = self.dir / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket=self.socket), encoding="utf-8")
        self._spawn(["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"])
        wait_until(self.socket.exists, 10.0, "the session bus socket")
        daemon = ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"]
        keyring = self._spawn(daemon, stdin=subprocess.PIPE)
        assert keyring.stdin is not None
        keyring.stdin.write(PASSWORD.encode())
        keyring.stdin.close()
        wait_until(self._secrets_served, 20.0, "gnome-keyring on the session bus")

    def _spawn(self, argv: list[str], **kw: object) -> subprocess.Popen[bytes]:
        log = (self.dir / f"{Path(argv[0]).name}.log").open("ab")
        child = subprocess.Popen(  # type: ignore[call-overload]
            argv, env=self.env(), stdout=log, stderr=subprocess.STDOUT, **kw
        )
        log.close()
        self.children.append(child)
        return child  # type: ignore[no-any-return]

    def _secrets_served(self) -> bool:
        call = [
            *("gdbus", "call", "--session", "--dest", "org.freedesktop.DBus"),
            *("--object-path", "/org/freedesktop/DBus", "--method"),
            *("org.freedesktop.DBus.NameHasOwner", "org.freedesktop.secrets"),
        ]
        done = subprocess.run(call, env=self.env(), capture_output=True, text=True, timeout=10)
        return "true" in done.stdout

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait(timeout=5)
        self.children.clear()
        shutil.rmtree(self.dir, ignore_errors=True)
