"""Start at login on all three systems: contents written, state read back, broken entries found."""

from __future__ import annotations

import plistlib
import stat
from pathlib import Path

import pytest
from tray_fakes import FakeWinreg

from gui.autostart import (
    APPROVED_KEY,
    RUN_KEY,
    RUN_VALUE,
    LaunchAgentAutostart,
    WindowsRunAutostart,
    XdgAutostart,
    autostart_command,
    desktop_exec_quote,
    desktop_exec_split,
    for_platform,
    launcher_command,
)


@pytest.fixture
def launcher(tmp_path: Path) -> Path:
    program = tmp_path / "venv dir" / "bin" / "plexsync-tray"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    return program


# --- Linux ------------------------------------------------------------------------------------


def test_linux_writes_an_xdg_autostart_entry(tmp_path: Path, launcher: Path) -> None:
    command = autostart_command([str(launcher)])
    entry = XdgAutostart(command, config_home=tmp_path / "config")
    assert not entry.is_enabled()

    entry.set_enabled(True)

    path = tmp_path / "config" / "autostart" / "plexsync-tray.desktop"
    assert entry.path == path
    text = path.read_text()
    assert text.startswith("[Desktop Entry]\n")
    assert "Type=Application\n" in text
    assert f'Exec="{launcher}" --autostart\n' in text
    assert "X-GNOME-Autostart-enabled=true\n" in text
    assert "@EXEC@" not in text and "@ICON@" not in text
    icon = next(line for line in text.splitlines() if line.startswith("Icon="))[5:]
    assert Path(icon).is_absolute() and Path(icon).read_text().startswith("<?xml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert entry.is_enabled()
    assert entry.problem() is None

    entry.set_enabled(False)
    assert not path.exists()
    assert not entry.is_enabled()


def test_linux_entry_follows_xdg_config_home(
    tmp_path: Path, launcher: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    entry = for_platform([str(launcher)], platform="linux")
    assert isinstance(entry, XdgAutostart)
    assert entry.path == tmp_path / "xdg" / "autostart" / "plexsync-tray.desktop"


def test_linux_entry_disabled_by_the_desktop_counts_as_off(tmp_path: Path, launcher: Path) -> None:
    entry = XdgAutostart([str(launcher)], config_home=tmp_path)
    entry.set_enabled(True)
    text = entry.path.read_text()
    entry.path.write_text(text.replace("X-GNOME-Autostart-enabled=true", "Hidden=true"))
    assert not entry.is_enabled()
    entry.path.write_text(text.replace("=true", "=false", 1).replace("Hidden", "X"))
    assert entry.path.read_text().count("X-GNOME-Autostart-enabled=false") == 1
    assert not entry.is_enabled()


def test_linux_entry_pointing_to_a_missing_program_is_reported(
    tmp_path: Path, launcher: Path
) -> None:
    entry = XdgAutostart(autostart_command([str(launcher)]), config_home=tmp_path)
    entry.set_enabled(True)
    launcher.unlink()
    problem = entry.problem()
    assert problem is not None and "no longer exists" in problem and str(launcher) in problem
    assert entry.is_enabled()  # it is there; it just won't work


def test_exec_quoting_round_trips() -> None:
    args = ["/opt/my apps/plexsync-tray", "--config-dir", '/home/me/100% $we"ird\\', "--autostart"]
    line = " ".join(desktop_exec_quote(arg) for arg in args)
    assert "%%" in line
    assert desktop_exec_split(line) == args
    assert desktop_exec_quote("/usr/bin/plexsync-tray") == "/usr/bin/plexsync-tray"


def test_command_carries_a_custom_config_dir(launcher: Path, tmp_path: Path) -> None:
    command = autostart_command([str(launcher)], tmp_path / "cfg")
    assert command == [str(launcher), "--autostart", "--config-dir", str(tmp_path / "cfg")]


def test_launcher_is_the_installed_script_with_an_absolute_path(launcher: Path) -> None:
    assert launcher_command(argv0=str(launcher)) == [str(launcher.resolve())]
    found = launcher_command(argv0="-c", which=lambda name: str(launcher))
    assert found == [str(launcher.resolve())]
    fallback = launcher_command(argv0="-c", which=lambda name: None, executable="/usr/bin/python3")
    assert fallback[1:] == ["-m", "gui.launcher"]
    assert Path(fallback[0]).is_absolute()


# --- macOS ------------------------------------------------------------------------------------


def test_macos_writes_a_launch_agent_without_keepalive(tmp_path: Path, launcher: Path) -> None:
    entry = LaunchAgentAutostart(autostart_command([str(launcher)]), home=tmp_path)
    entry.set_enabled(True)

    path = tmp_path / "Library" / "LaunchAgents" / "io.github.plexsync-tray.plist"
    data = plistlib.loads(path.read_bytes())
    assert data["Label"] == "io.github.plexsync-tray"
    assert data["ProgramArguments"] == [str(launcher), "--autostart"]
    assert data["RunAtLoad"] is True
    assert "KeepAlive" not in data  # it would relaunch the app after Quit
    assert entry.is_enabled() and entry.problem() is None

    entry.set_enabled(False)
    assert not path.exists() and not entry.is_enabled()


def test_macos_reports_keepalive_and_missing_programs(tmp_path: Path, launcher: Path) -> None:
    entry = LaunchAgentAutostart([str(launcher)], home=tmp_path)
    entry.set_enabled(True)
    data = plistlib.loads(entry.path.read_bytes())
    entry.path.write_bytes(plistlib.dumps({**data, "KeepAlive": True}))
    assert "KeepAlive" in (entry.problem() or "")
    entry.path.write_bytes(plistlib.dumps({**data, "ProgramArguments": ["/gone/plexsync-tray"]}))
    assert "no longer exists" in (entry.problem() or "")


# --- Windows ----------------------------------------------------------------------------------


def test_windows_writes_the_run_value(launcher: Path) -> None:
    registry = FakeWinreg()
    entry = WindowsRunAutostart(autostart_command([str(launcher)]), registry=registry)
    assert not entry.is_enabled()

    entry.set_enabled(True)

    value, kind = registry.keys[("HKCU", RUN_KEY)][RUN_VALUE]
    assert value == f'"{launcher}" --autostart'
    assert kind == FakeWinreg.REG_SZ
    assert entry.is_enabled() and entry.problem() is None

    entry.set_enabled(False)
    assert RUN_VALUE not in registry.keys[("HKCU", RUN_KEY)]
    assert not entry.is_enabled()


def test_windows_honours_the_task_manager_switch(launcher: Path) -> None:
    registry = FakeWinreg()
    entry = WindowsRunAutostart([str(launcher)], registry=registry)
    entry.set_enabled(True)
    approved = registry.CreateKeyEx("HKCU", APPROVED_KEY)
    registry.SetValueEx(approved, RUN_VALUE, 0, FakeWinreg.REG_BINARY, b"\x03\0\0\0" + b"\x11" * 8)
    assert not entry.is_enabled()
    assert "Task Manager" in (entry.problem() or "")
    entry.set_enabled(True)  # switching it on again clears the stale mark
    assert entry.is_enabled()


def test_windows_reports_a_moved_program(launcher: Path) -> None:
    registry = FakeWinreg()
    entry = WindowsRunAutostart([str(launcher)], registry=registry)
    entry.set_enabled(True)
    launcher.unlink()
    assert "no longer exists" in (entry.problem() or "")
