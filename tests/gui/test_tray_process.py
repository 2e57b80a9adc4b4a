"""The real app as a process (offscreen): one instance per config dir, SIGTERM, no secrets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from engine.config.file import PlexSyncConfig, save_config
from engine.paths import AppPaths

TOKEN = "proc-secret-token-5f3a9c"
API_KEY = "proc-stash-key-77b1e2"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGTERM")


def app_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        PLEXAPI_CONFIG_PATH=os.devnull,
        PYTHONUNBUFFERED="1",
    )
    return env


def launch(config_dir: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gui.launcher", "--config-dir", str(config_dir), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    paths = AppPaths.in_dir(tmp_path / "app").ensure()
    config = PlexSyncConfig(
        plex_url="http://127.0.0.1:9",  # nothing listens there: the engine meets an outage
        plex_token=TOKEN,
        stash_url="http://127.0.0.1:9",
        stash_api_key=API_KEY,
        poll_interval=1,
        failure_threshold=1,
    )
    save_config(config, paths.config_file)
    return paths.config_dir


@pytest.fixture
def first(config_dir: Path, tmp_path: Path, qtbot: QtBot) -> Iterator[subprocess.Popen[str]]:
    proc = launch(config_dir, app_env(tmp_path))
    log = config_dir / "logs" / "plexsync-tray.log"
    try:
        qtbot.waitUntil(
            lambda: log.exists() and "Engine thread started" in log.read_text(), timeout=20_000
        )
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def read_log(config_dir: Path) -> str:
    return (config_dir / "logs" / "plexsync-tray.log").read_text()


def test_second_launch_shows_the_first_and_exits_0(
    first: subprocess.Popen[str], config_dir: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    second = launch(config_dir, app_env(tmp_path))
    _out, err = second.communicate(timeout=20)
    assert second.returncode == 0, err
    assert "already running" in err
    qtbot.waitUntil(
        lambda: "A later launch asked this instance to show itself" in read_log(config_dir),
        timeout=5000,
    )
    assert first.poll() is None  # the first one is still running


def test_sigterm_stops_in_order_within_two_seconds_and_leaks_no_secret(
    first: subprocess.Popen[str], config_dir: Path, qtbot: QtBot
) -> None:
    qtbot.waitUntil(lambda: "Tray state" in read_log(config_dir), timeout=10_000)
    started = time.monotonic()
    first.send_signal(signal.SIGTERM)
    out, err = first.communicate(timeout=10)
    elapsed = time.monotonic() - started
    assert first.returncode == 0, err
    assert elapsed < 3.0  # 2 s for the engine thread, plus interpreter shutdown
    log = read_log(config_dir)
    assert "Received SIGTERM: quitting" in log
    assert log.index("Engine thread stopped") < log.index("PlexSync Tray stopped")
    assert "Destroyed while thread" not in err
    for secret in (TOKEN, API_KEY):
        assert secret not in log
        assert secret not in out
        assert secret not in err


def test_a_different_config_dir_is_a_different_instance(
    first: subprocess.Popen[str], tmp_path: Path, qtbot: QtBot
) -> None:
    other = AppPaths.in_dir(tmp_path / "other").ensure()
    save_config(PlexSyncConfig(), other.config_file)
    proc = launch(other.config_dir, app_env(tmp_path))
    try:
        log = other.log_dir / "plexsync-tray.log"
        qtbot.waitUntil(
            lambda: log.exists() and "Engine thread started" in log.read_text(), timeout=20_000
        )
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0
