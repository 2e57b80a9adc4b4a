"""`plexsync config set-secret` and `show` without a usable keyring (the tests' fail backend):
the secret goes to the 0600 file, and the user is told so and why."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config.file import PlexSyncConfig, save_config

pytestmark = pytest.mark.integration

TOKEN = "cli-F1le-fallback-token"


def plexsync(config_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "engine.cli", "--config-dir", str(config_dir), *args]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)


def test_set_secret_without_a_keyring_keeps_it_in_the_private_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    save_config(PlexSyncConfig(plex_url="http://127.0.0.1:32400"), path)
    done = plexsync(tmp_path, "config", "set-secret", "plex_token", stdin=TOKEN + "\n")
    assert done.returncode == 0, done.stderr
    assert "saved in the settings file" in done.stdout
    assert "no usable system keyring (none is installed or running)" in done.stdout
    assert json.loads(path.read_text(encoding="utf-8"))["plex_token"] == TOKEN
    assert path.stat().st_mode & 0o777 == 0o600
    shown = plexsync(tmp_path, "config", "show")
    assert TOKEN not in shown.stdout + shown.stderr
    assert "Secrets are kept in the settings file" in shown.stderr


def test_set_secret_refuses_a_bad_value_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    save_config(PlexSyncConfig(plex_url="http://127.0.0.1:32400", plex_token=TOKEN), path)
    before = path.read_bytes()
    done = plexsync(tmp_path, "config", "set-secret", "plex_token", stdin="two words\n")
    assert done.returncode == 2
    assert "plex_token" in done.stderr and "two words" not in done.stderr
    assert path.read_bytes() == before
