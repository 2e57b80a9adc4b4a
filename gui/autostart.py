"""Start at login, for real, on Linux (XDG autostart), macOS (LaunchAgent) and Windows (Run key).

Each writer reads its state back from disk (or the registry) rather than trusting the config, and
says when the entry points to a program that no longer exists, so a moved install or a removed
venv does not fail silently. The command is the absolute path of the installed launcher plus
`--autostart`, which makes the app wait for a late tray instead of giving up.
"""

from __future__ import annotations

import logging
import os
import plistlib
import shutil
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication

from gui.translations import fill

logger = logging.getLogger(__name__)


def tr(text: str) -> str:
    return QCoreApplication.translate("Autostart", text)


APP_ID = "plexsync-tray"
LAUNCH_AGENT_LABEL = "io.github.plexsync-tray"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
RUN_VALUE = "PlexSync Tray"
AUTOSTART_FLAG = "--autostart"


class Autostart(Protocol):
    def is_enabled(self) -> bool:
        """Whether an entry is there and switched on (read from disk every time)."""
        ...

    def set_enabled(self, enabled: bool) -> None:
        """Write or remove the entry; raises OSError when that fails."""
        ...

    def problem(self) -> str | None:
        """Why an existing entry will not work, in words, or None."""
        ...

    def describe(self) -> str:
        """Where the entry lives, for the settings dialog."""
        ...


def launcher_command(
    *,
    argv0: str | None = None,
    which: Any = shutil.which,
    executable: str | None = None,
) -> list[str]:
    """The absolute command that starts this app: the installed gui-script when there is one."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    if argv0:
        candidate = Path(argv0)
        if candidate.name.lower().startswith(APP_ID) and candidate.is_file():
            return [str(candidate.resolve())]
    found = which(APP_ID)
    if found:
        return [str(Path(found).resolve())]
    return [str(Path(executable or sys.executable).resolve()), "-m", "gui.launcher"]


def autostart_command(
    launcher: Sequence[str], config_dir: Path | None = None, *, extra: Sequence[str] = ()
) -> list[str]:
    command = [*launcher, AUTOSTART_FLAG]
    if config_dir is not None:
        command += ["--config-dir", str(config_dir)]
    return command + list(extra)


def _program_problem(program: str | None, *, which: Any = shutil.which) -> str | None:
    if not program:
        return tr("The login entry has no command.")
    path = Path(program)
    if not path.is_absolute():
        if which(program):
            return None
        return fill(tr("The login entry runs %1, which is not installed."), program)
    if not path.is_file():
        return fill(tr("The login entry points to %1, which no longer exists."), program)
    if os.name != "nt" and not os.access(path, os.X_OK):
        return fill(tr("The login entry points to %1, which is not executable."), program)
    return None


# --- Linux: XDG autostart -----------------------------------------------------------------------


_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def desktop_exec_quote(arg: str) -> str:
    """One Exec argument as the file holds it: the spec's quoting, then its string escaping."""
    arg = arg.replace("%", "%%")
    if arg and not (set(arg) & _EXEC_RESERVED):
        return arg
    quoted = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg) + '"'
    return quoted.replace("\\", "\\\\")  # the string escape rule applies before quoting


_STRING_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def _unescape_string(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(_STRING_ESCAPES.get(nxt, "\\" + nxt))
        else:
            out.append(ch)
    return "".join(out)


def desktop_exec_split(value: str) -> list[str]:
    """The arguments of an Exec value (string escapes undone, then the quoting rule)."""
    args: list[str] = []
    current: list[str] = []
    started = quoted = escaped = False
    for ch in _unescape_string(value):
        if quoted:
            if escaped:
                current.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = started = True
        elif ch in " \t":
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        args.append("".join(current))
    return [arg.replace("%%", "%") for arg in args]


def _desktop_values(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    in_entry = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_entry = line == "[Desktop Entry]"
            continue
        if in_entry and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), value.strip())
    return values


class XdgAutostart:
    """`$XDG_CONFIG_HOME/autostart/plexsync-tray.desktop`."""

    def __init__(self, command: Sequence[str], *, config_home: Path | None = None) -> None:
        self.command = list(command)
        home = config_home or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        self.path = home / "autostart" / f"{APP_ID}.desktop"

    def render(self) -> str:
        files = resources.files("resources")
        template = files.joinpath(f"{APP_ID}.desktop").read_text("utf-8")
        exec_line = " ".join(desktop_exec_quote(arg) for arg in self.command)
        # The icon ships in the wheel; a desktop entry needs its absolute path (or a theme name).
        icon = str(files.joinpath(f"{APP_ID}.svg"))
        return template.replace("@EXEC@", exec_line).replace("@ICON@", icon)

    def _values(self) -> dict[str, str] | None:
        try:
            return _desktop_values(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("Could not read %s: %s", self.path, exc)
            return None

    def is_enabled(self) -> bool:
        values = self._values()
        if values is None:
            return False
        if values.get("Hidden", "").lower() == "true":
            return False
        return values.get("X-GNOME-Autostart-enabled", "true").lower() != "false"

    def problem(self) -> str | None:
        values = self._values()
        if values is None or not self.is_enabled():
            return None
        command = desktop_exec_split(values.get("Exec", ""))
        return _program_problem(command[0] if command else None)

    def set_enabled(self, enabled: bool) -> None:
        if enabled:
            _atomic_write(self.path, self.render().encode("utf-8"), mode=0o644)
            logger.info("Start at login enabled: %s", self.path)
        else:
            self.path.unlink(missing_ok=True)
            logger.info("Start at login disabled: removed %s", self.path)

    def describe(self) -> str:
        return fill(tr("Adds %1"), self.path)


# --- macOS: a LaunchAgent -----------------------------------------------------------------------


class LaunchAgentAutostart:
    """`~/Library/LaunchAgents/<label>.plist`: RunAtLoad, and no KeepAlive (Quit must stick)."""

    def __init__(self, command: Sequence[str], *, home: Path | None = None) -> None:
        self.command = list(command)
        self.path = (
            (home or Path.home()) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
        )

    def render(self) -> bytes:
        data = {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": self.command,
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        }
        return plistlib.dumps(data, fmt=plistlib.FMT_XML)

    def _data(self) -> dict[str, Any] | None:
        try:
            data = plistlib.loads(self.path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, plistlib.InvalidFileException, ValueError) as exc:
            logger.warning("Could not read %s: %s", self.path, exc)
            return None
        return data if isinstance(data, dict) else None

    def is_enabled(self) -> bool:
        data = self._data()
        if not data:
            return False
        return not data.get("Disabled", False) and bool(data.get("RunAtLoad"))

    def problem(self) -> str | None:
        data = self._data()
        if not data:
            return None
        if data.get("KeepAlive") is True:
            return tr("The login entry has KeepAlive set, which relaunches the app after Quit.")
        args = data.get("ProgramArguments") or ([data["Program"]] if "Program" in data else [])
        return _program_problem(str(args[0]) if args else None)

    def set_enabled(self, enabled: bool) -> None:
        if enabled:
            _atomic_write(self.path, self.render(), mode=0o644)
            logger.info("Start at login enabled: %s", self.path)
        else:
            self.path.unlink(missing_ok=True)
            logger.info("Start at login disabled: removed %s", self.path)

    def describe(self) -> str:
        return fill(tr("Adds the LaunchAgent %1"), self.path)


# --- Windows: HKCU Run ----------------------------------------------------------------------------


def windows_quote(command: Sequence[str]) -> str:
    """A Run value: every argument with a space in double quotes; the program always quoted."""
    parts = [f'"{command[0]}"'] + [f'"{a}"' if (" " in a or not a) else a for a in command[1:]]
    return " ".join(parts)


def windows_program(value: str) -> str | None:
    value = value.strip()
    if value.startswith('"'):
        end = value.find('"', 1)
        return value[1:end] if end > 0 else None
    return value.split(" ", 1)[0] or None


class WindowsRunAutostart:
    """A value under HKCU\\...\\Run; the Task Manager switch in StartupApproved is honoured."""

    def __init__(self, command: Sequence[str], *, registry: Any = None) -> None:
        self.command = list(command)
        if registry is None:
            import winreg as registry  # Windows only
        self._reg = registry

    def _read(self, sub_key: str) -> Any:
        reg = self._reg
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, sub_key, 0, reg.KEY_READ) as key:
                return reg.QueryValueEx(key, RUN_VALUE)[0]
        except OSError:
            return None

    def is_enabled(self) -> bool:
        if not self._read(RUN_KEY):
            return False
        approved = self._read(APPROVED_KEY)
        # Task Manager's "Disabled" stamps the time it was switched off into the last 8 bytes.
        return not (isinstance(approved, bytes | bytearray) and any(approved[-8:]))

    def problem(self) -> str | None:
        value = self._read(RUN_KEY)
        if not value:
            return None
        if not self.is_enabled():
            return tr("Start at login is switched off in Task Manager's Startup apps.")
        return _program_problem(windows_program(str(value)))

    def set_enabled(self, enabled: bool) -> None:
        reg = self._reg
        with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
            if enabled:
                reg.SetValueEx(key, RUN_VALUE, 0, reg.REG_SZ, windows_quote(self.command))
            else:
                try:
                    reg.DeleteValue(key, RUN_VALUE)
                except FileNotFoundError:
                    pass
        try:  # a stale Task Manager "disabled" mark would keep the new entry from running
            with reg.OpenKey(reg.HKEY_CURRENT_USER, APPROVED_KEY, 0, reg.KEY_SET_VALUE) as key:
                reg.DeleteValue(key, RUN_VALUE)
        except OSError:
            pass
        logger.info("Start at login %s (HKCU Run)", "enabled" if enabled else "disabled")

    def describe(self) -> str:
        return fill(tr("Adds the value “%1” under %2"), RUN_VALUE, f"HKEY_CURRENT_USER\\{RUN_KEY}")


def for_platform(command: Sequence[str], platform: str = sys.platform) -> Autostart:
    if platform.startswith("win"):
        return WindowsRunAutostart(command)
    if platform == "darwin":
        return LaunchAgentAutostart(command)
    return XdgAutostart(command)


def _atomic_write(path: Path, data: bytes, *, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
