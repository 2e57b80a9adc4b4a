"""A private X11 desktop for the end-to-end tests and `make screenshots`: Xvfb, trayer, xdotool.

`Desktop()` starts Xvfb on a free display number (`-displayfd`), then trayer, Debian's X11 system
tray, docked at the top right. Programs started with `desktop.env()` get `DISPLAY` and
`QT_QPA_PLATFORM=xcb`, and a session-bus address that leads nowhere, so Qt uses the XEmbed tray
(trayer) rather than a StatusNotifierItem, and libdbus never autolaunches a bus of its own.

Screenshots come from ImageMagick's `import -window root` as PPM, decoded by `screen_pixels`, so
that a test can classify the tray icon's colour without Qt. Clicks and keys go through `xdotool`;
window geometry comes from `xwininfo -root -tree`. Every child runs in its own session and is
stopped with its whole process group. No Qt, no pytest: `tools/screenshots.py` uses it too.
"""

from __future__ import annotations

import ctypes.util
import os
import re
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from screen_pixels import Image, Rect, parse_ppm

# Executable -> the Debian package that ships it.
TOOLS = {
    "Xvfb": "xvfb",
    "trayer": "trayer",
    "xdotool": "xdotool",
    "xwininfo": "x11-utils",
    "import": "imagemagick",
}
# Shared library (as ctypes.util.find_library names it) -> Debian package; Qt's xcb plugin.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-shape": "libxcb-shape0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-image": "libxcb-image0",
    "EGL": "libegl1",
    "fontconfig": "libfontconfig1",
}
NOWHERE_BUS = "unix:path=/nonexistent/plexsync-e2e-bus"
SCREEN = (1024, 768)
PANEL_HEIGHT = 32
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


def missing_packages() -> list[str]:
    """The Debian packages whose tools or libraries are missing here (empty when all present)."""
    missing = [pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None]
    missing += [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
    return sorted(set(missing))


def wait_until(
    predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.1
) -> object:
    """Poll `predicate` until it returns something truthy; TimeoutError names `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


# --- processes ------------------------------------------------------------------------------


class Child:
    """A process in its own session, its output in `log`; `stop()` ends its whole group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log: Path,
        pass_fds: Sequence[int] = (),
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                list(argv),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=tuple(pass_fds),
                cwd=cwd,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def signal(self, signum: int) -> None:
        """Signal the process itself (not its group), as a desktop session would."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM to the group, SIGKILL after `timeout`; idempotent; returns the exit code."""
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(timeout)
        self._signal_group(signal.SIGKILL)  # leftovers in the group, if any
        return self.proc.returncode

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


# --- the desktop ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    wid: int
    name: str
    instance: str
    klass: str
    rect: Rect  # absolute
    depth: int  # nesting below the root


_TREE_LINE = re.compile(
    r"^(?P<indent>\s*)(?P<wid>0x[0-9a-f]+) (?P<name>\(has no name\)|\".*?\"): "
    r"\((?:\"(?P<inst>[^\"]*)\" \"(?P<cls>[^\"]*)\")?\)\s+"
    r"(?P<w>\d+)x(?P<h>\d+)[+-]-?\d+[+-]-?\d+\s+\+(?P<ax>-?\d+)\+(?P<ay>-?\d+)"
)


def parse_tree(text: str) -> list[Window]:
    """The windows listed by `xwininfo -root -tree`, in its order, with absolute geometry."""
    windows = []
    for line in text.splitlines():
        match = _TREE_LINE.match(line)
        if match is None:
            continue
        name = match["name"]
        windows.append(
            Window(
                wid=int(match["wid"], 16),
                name="" if name == "(has no name)" else name[1:-1],
                instance=match["inst"] or "",
                klass=match["cls"] or "",
                rect=Rect(int(match["ax"]), int(match["ay"]), int(match["w"]), int(match["h"])),
                depth=len(match["indent"]) // 3,
            )
        )
    return windows


class Managed:
    """`start()`/`stop()` as a context manager; `stop()` never raises."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def stop_all(children: Sequence[Child]) -> None:
    """Stop children, the last started first, whatever fails on the way."""
    for child in reversed(children):
        try:
            child.stop()
        except Exception:
            pass


class Desktop(Managed):
    """Xvfb plus trayer on a free display; a context manager that stops both, whatever happens."""

    def __init__(
        self, workdir: Path, *, screen: tuple[int, int] = SCREEN, tray: bool = True
    ) -> None:
        self.workdir = workdir
        self.screen = screen
        self.tray = tray
        self.display = ""
        self.children: list[Child] = []

    # lifecycle

    def start(self) -> Self:
        try:
            self._start_xvfb()
            if self.tray:
                self.start_tray()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every child, the last started first. Never raises."""
        stop_all(self.children)

    def _start_xvfb(self) -> None:
        read_end, write_end = os.pipe()
        try:
            width, height = self.screen
            argv = ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24"]
            argv += ["-nolisten", "tcp", "-noreset", "-dpi", "96"]
            child = Child(
                "xvfb",
                argv,
                env=os.environ,
                log=self.workdir / "xvfb.log",
                pass_fds=[write_end],
            )
            self.children.append(child)
            os.close(write_end)
            write_end = -1
            number = self._read_display_number(read_end, child)
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        self.display = f":{number}"

    @staticmethod
    def _read_display_number(fd: int, child: Child) -> int:
        deadline = time.monotonic() + START_TIMEOUT
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not child.running:
                raise RuntimeError(f"Xvfb did not start: {child.output()[-2000:]}")
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 64)
                if not chunk:
                    raise RuntimeError(f"Xvfb exited: {child.output()[-2000:]}")
                data += chunk
        return int(data.strip())

    def start_tray(self) -> None:
        """trayer at the top right; returns once its panel is on screen."""
        argv = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request"]
        argv += ["--height", str(PANEL_HEIGHT), "--SetDockType", "true", "--expand", "true"]
        argv += ["--transparent", "false", "--padding", "4"]
        self.spawn("trayer", argv)
        wait_until(self.panel, START_TIMEOUT, "trayer's panel window")

    # running things on this display

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DISPLAY=self.display, QT_QPA_PLATFORM="xcb", DBUS_SESSION_BUS_ADDRESS=NOWHERE_BUS
        )
        for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORMTHEME", "XAUTHORITY"):
            env.pop(name, None)
        env.update(extra)
        return env

    def spawn(self, name: str, argv: Sequence[str], **kwargs: object) -> Child:
        """Start a program on this display; it is stopped with the desktop."""
        env = kwargs.pop("env", None) or self.env()
        child = Child(name, argv, env=env, log=self.workdir / f"{name}.log", **kwargs)  # type: ignore[arg-type]
        self.children.append(child)
        return child

    def run(self, *argv: str, timeout: float = 10.0, check: bool = True) -> str:
        """Run an X client to completion; its stdout."""
        done = subprocess.run(
            list(argv), env=self.env(), capture_output=True, timeout=timeout, check=check
        )
        return done.stdout.decode("utf-8", "replace")

    # looking

    def windows(self) -> list[Window]:
        return parse_tree(self.run("xwininfo", "-root", "-tree"))

    def panel(self) -> Window | None:
        """trayer's panel, once it is mapped on screen."""
        for window in self.windows():
            if window.instance == "panel" and window.klass == "trayer" and window.rect.x >= 0:
                return window
        return None

    def tray_icon(self, app_class: str = "plexsync-tray") -> Window | None:
        """The app's icon window, docked inside trayer's panel."""
        windows = self.windows()
        panel = next((w for w in windows if w.instance == "panel" and w.klass == "trayer"), None)
        if panel is None:
            return None
        for window in windows:
            if window.klass == app_class and panel.rect.contains(window.rect):
                return window
        return None

    def visible_windows(self, name_pattern: str) -> list[int]:
        """Ids of mapped windows whose name matches (`xdotool search --onlyvisible --name`)."""
        done = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", name_pattern],
            env=self.env(),
            capture_output=True,
            timeout=10,
        )
        return [int(line) for line in done.stdout.split()]

    def screenshot(self, path: Path | None = None) -> Image:
        """The whole screen now; also saved as a PNG at `path` when given."""
        done = subprocess.run(
            ["import", "-silent", "-window", "root", "-depth", "8", "ppm:-"],
            env=self.env(),
            capture_output=True,
            timeout=20,
            check=True,
        )
        image = parse_ppm(done.stdout)
        if path is not None:
            image.save_png(path)
        return image

    def save_window(self, wid: int, path: Path) -> None:
        """One window's contents (and what overlaps it) as an image file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.run("import", "-silent", "-window", str(wid), str(path), timeout=20)

    # touching

    def xdotool(self, *args: str) -> str:
        return self.run("xdotool", *args)

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.xdotool("mousemove", str(x), str(y), "click", str(button))

    def keys(self, *names: str, delay_ms: int = 60) -> None:
        self.xdotool("key", "--delay", str(delay_ms), *names)
