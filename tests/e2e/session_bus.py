"""A private D-Bus session bus with a StatusNotifierWatcher, to read the tray's tooltip back.

Under XEmbed (trayer) the tooltip is only pixels. When a StatusNotifierWatcher with a host is on
the session bus, Qt publishes the same QSystemTrayIcon as a StatusNotifierItem instead, whose
`ToolTip` property `gdbus` can read. The bus daemon runs from a config written here (no system
files needed) on a Unix socket in a short temporary directory; the watcher is `sni_watcher.py`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Self

from x11_desktop import Child, Desktop, Managed, stop_all, wait_until

TOOLS = {"dbus-daemon": "dbus-daemon", "gdbus": "libglib2.0-bin"}
WATCHER = Path(__file__).with_name("sni_watcher.py")
ITEM_INTERFACE = "org.kde.StatusNotifierItem"

# A private session bus open to any name; keyring_session.py uses it too.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def missing_packages() -> list[str]:
    return sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})


class SessionBus(Managed):
    """`dbus-daemon` plus the watcher, both stopped on exit; `address` for the app's env."""

    def __init__(self, desktop: Desktop) -> None:
        self.desktop = desktop
        self._dir = Path(tempfile.mkdtemp(prefix="pse2e-"))  # socket paths must stay short
        self.socket = self._dir / "bus"
        self.address = f"unix:path={self.socket}"
        self.children: list[Child] = []
        self.watcher: Child | None = None
        self.answers: list[str] = []  # every raw tooltip answer, for the secrets check

    def start(self) -> Self:
        try:
            config = self._dir / "bus.conf"
            config.write_text(BUS_CONFIG.format(socket=self.socket), encoding="utf-8")
            argv = ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"]
            daemon = Child("dbus-daemon", argv, env=self.env(), log=self._log("dbus-daemon"))
            self.children.append(daemon)
            wait_until(self.socket.exists, 10.0, "the session bus socket")
            argv = [sys.executable, str(WATCHER)]
            env = self.env(QT_QPA_PLATFORM="offscreen")
            self.watcher = Child("sni-watcher", argv, env=env, log=self._log("sni-watcher"))
            self.children.append(self.watcher)
            wait_until(lambda: "ready" in self.watcher_lines(), 15.0, "the watcher")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_all(self.children)
        shutil.rmtree(self._dir, ignore_errors=True)

    def _log(self, name: str) -> Path:
        return self.desktop.workdir / f"{name}.log"

    def env(self, **extra: str) -> dict[str, str]:
        """The desktop's environment, with this bus as the session bus."""
        return self.desktop.env(DBUS_SESSION_BUS_ADDRESS=self.address, **extra)

    def watcher_lines(self) -> list[str]:
        return self.watcher.output().splitlines() if self.watcher is not None else []

    def item(self) -> tuple[str, str] | None:
        """(bus name, object path) of the first StatusNotifierItem that registered."""
        for line in self.watcher_lines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "item":
                return parts[1], parts[2]
        return None

    def tooltip(self, item: tuple[str, str]) -> str:
        """The item's tooltip as `title\\nbody` (Qt puts the whole text in the title)."""
        service, path = item
        done = subprocess.run(
            [
                *("gdbus", "call", "--session", "--dest", service, "--object-path", path),
                *("--method", "org.freedesktop.DBus.Properties.Get", ITEM_INTERFACE, "ToolTip"),
            ],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        self.answers.append(done.stdout)
        return parse_tooltip(done.stdout)


_GVARIANT_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")


def parse_tooltip(text: str) -> str:
    """`(<('', @a(iiay) [], 'Title', 'Body')>,)` -> `Title\\nBody` (empty parts dropped)."""
    strings = [_unescape(m.group(1)) for m in _GVARIANT_STRING.finditer(text)]
    if len(strings) < 3:
        raise ValueError(f"not a StatusNotifierItem tooltip: {text!r}")
    title, body = strings[-2], strings[-1]
    return "\n".join(part for part in (title, body) if part)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _unescape(value: str) -> str:
    """GVariant text escapes: `\\n`, `\\t`, `\\'`, `\\uXXXX` and friends."""
    out: list[str] = []
    i = 0
    while i < len(value):
        char = value[i]
        if char != "\\" or i + 1 == len(value):
            out.append(char)
            i += 1
            continue
        code = value[i + 1]
        if code == "u":
            out.append(chr(int(value[i + 2 : i + 6], 16)))
            i += 6
        elif code == "U":
            out.append(chr(int(value[i + 2 : i + 10], 16)))
            i += 10
        else:
            out.append(_ESCAPES.get(code, code))
            i += 2
    return "".join(out)
