"""`plexsync service install | uninstall` and the shipped systemd user unit: it parses, systemd
accepts it, and ExecStart names this installation's `plexsync`."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def plexsync(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(home / "config"))
    argv = [sys.executable, "-m", "engine.cli", "--config-dir", str(home / "app"), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)


def unit_of(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def test_the_shipped_unit_is_package_data_with_the_promised_settings() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "*.service" in pyproject["tool"]["setuptools"]["package-data"]["resources"]
    unit = unit_of(ROOT / "resources" / "plexsync.service")
    service = unit["Service"]
    assert service["ExecStart"] == "%h/.local/bin/plexsync run"
    assert service["Restart"] == "on-failure" and service["KillSignal"] == "SIGTERM"
    assert service["NoNewPrivileges"] == "yes" and int(service["TimeoutStopSec"]) > 2
    assert unit["Install"]["WantedBy"] == "default.target"


def test_install_writes_a_unit_systemd_accepts_and_uninstall_removes_it(tmp_path: Path) -> None:
    done = plexsync(tmp_path, "service", "install")
    assert done.returncode == 0, done.stderr
    installed = tmp_path / "config" / "systemd" / "user" / "plexsync.service"
    command = unit_of(installed)["Service"]["ExecStart"].split()
    assert Path(command[0]).is_file() and os.access(command[0], os.X_OK)
    assert Path(command[0]).name == "plexsync"
    assert command[1:] == ["--config-dir", str((tmp_path / "app").resolve()), "run"]
    assert "systemctl --user enable --now plexsync.service" in done.stdout
    if shutil.which("systemd-analyze"):
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700)
        env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))
        checked = subprocess.run(
            ["systemd-analyze", "verify", "--user", str(installed)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert checked.returncode == 0, checked.stderr
        assert "plexsync.service" not in checked.stderr  # no unknown key, no bad value
    again = plexsync(tmp_path, "service", "install")
    assert again.returncode == 2 and "--force" in again.stderr
    assert plexsync(tmp_path, "service", "install", "--force").returncode == 0
    wants = installed.parent / "default.target.wants"
    wants.mkdir()
    (wants / "plexsync.service").symlink_to(installed)  # as `systemctl --user enable` leaves it
    removed = plexsync(tmp_path, "service", "uninstall")
    assert removed.returncode == 0 and "daemon-reload" in removed.stdout
    assert not installed.exists() and not (wants / "plexsync.service").is_symlink()
