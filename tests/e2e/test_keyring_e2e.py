"""The Plex token and Stash API key in a real keyring: gnome-keyring on a private session bus.

The unmodified `plexsync` CLI (keyring picks its backend itself) moves a schema 1 config's
secrets into the keyring at its first start, syncs with them, shows them masked, stores a new
one, and names a locked keyring instead of failing silently.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import secretstorage
from conftest import in_ci
from keyring_session import KeyringSession, missing_packages

from engine.config.file import PlexSyncConfig, save_config
from engine.config.secret_store import secret_ref
from plexsync_sim.process import SimProcess

pytestmark = pytest.mark.e2e

TOKEN = "e2e-Kr1ng-plex-token"
API_KEY = "e2e-Kr1ng-stash-key"


@pytest.fixture
def keyring_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyringSession]:
    missing = missing_packages()
    if missing:
        message = f"the keyring tests need: sudo apt-get install {' '.join(missing)}"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    with KeyringSession() as session:
        for key, value in session.env().items():
            monkeypatch.setenv(key, value)  # secretstorage in this process reads the same bus
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
        yield session


def plexsync(
    session: KeyringSession, config_dir: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "engine.cli", "--config-dir", str(config_dir), *args]
    return subprocess.run(
        argv, env=session.env(), input=stdin, capture_output=True, text=True, timeout=120
    )


def stored(config_dir: Path, field: str) -> str | None:
    """What gnome-keyring holds for `field`, read with secretstorage directly."""
    service, user = secret_ref(config_dir, field).rsplit("/", 1)
    with secretstorage.dbus_init() as connection:
        collection = secretstorage.get_default_collection(connection)
        for item in collection.search_items({"service": service, "username": user}):
            return item.get_secret().decode()
    return None


def lock_keyring() -> None:
    with secretstorage.dbus_init() as connection:
        secretstorage.get_default_collection(connection).lock()


def write_v1_config(config_dir: Path, plex: SimProcess, stash: SimProcess) -> Path:
    path = config_dir / "config.json"
    config = PlexSyncConfig(
        plex_url=plex.url,
        plex_token=TOKEN,
        stash_url=stash.url,
        stash_api_key=API_KEY,
        path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],
    )
    save_config(config, path)  # no store: today's plain 0600 file
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "schema_version": 1}), encoding="utf-8")
    return path


def test_first_start_moves_secrets_into_gnome_keyring_and_syncs_with_them(
    keyring_session: KeyringSession, tmp_path: Path
) -> None:
    plex = SimProcess("plex", "--token", TOKEN, "--movies", "4", "--seed", "2")
    stash = SimProcess("stash", "--api-key", API_KEY, "--scenes", "4", "--seed", "2")
    with plex, stash:
        path = write_v1_config(tmp_path, plex, stash)
        result = plexsync(keyring_session, tmp_path, "run", "--once")
    assert result.returncode == 0, result.stderr
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text and API_KEY not in text
    data = json.loads(text)
    assert data["schema_version"] == 2
    assert data["plex_token"] == {"keyring": secret_ref(tmp_path, "plex_token")}
    assert path.stat().st_mode & 0o777 == 0o600
    assert stored(tmp_path, "plex_token") == TOKEN
    assert stored(tmp_path, "stash_api_key") == API_KEY
    log = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "logs").glob("*.log"))
    assert "Moved plex_token, stash_api_key" in log and TOKEN not in log

    shown = plexsync(keyring_session, tmp_path, "config", "show")
    assert shown.returncode == 0
    assert TOKEN not in shown.stdout + shown.stderr
    assert json.loads(shown.stdout)["plex_token"] == "********"
    assert "kept in the system keyring (SecretService Keyring)" in shown.stderr


def test_set_secret_writes_the_keyring_and_a_locked_keyring_is_named(
    keyring_session: KeyringSession, tmp_path: Path
) -> None:
    path = tmp_path / "config.json"
    save_config(PlexSyncConfig(plex_url="http://127.0.0.1:32400"), path)
    done = plexsync(keyring_session, tmp_path, "config", "set-secret", "plex_token", stdin=TOKEN)
    assert done.returncode == 0, done.stderr
    assert "saved in the system keyring" in done.stdout
    assert stored(tmp_path, "plex_token") == TOKEN
    assert TOKEN not in path.read_text(encoding="utf-8") + done.stdout + done.stderr
    assert plexsync(keyring_session, tmp_path, "config", "check").returncode == 0

    lock_keyring()
    before = path.read_bytes()
    check = plexsync(keyring_session, tmp_path, "config", "check")
    assert check.returncode == 1
    assert "plex_token" in check.stderr and "which is locked (KeyringLocked" in check.stderr
    assert "unlock it" in check.stderr  # its own state, with what to do (issue 22)
    assert path.read_bytes() == before
    # Another setting saves while it is locked, and the keyring entry and its reference stay.
    changed = plexsync(keyring_session, tmp_path, "config", "set", "poll_interval", "90")
    assert changed.returncode == 0, changed.stderr
    assert json.loads(path.read_text(encoding="utf-8"))["plex_token"] == {
        "keyring": secret_ref(tmp_path, "plex_token")
    }
    service, user = secret_ref(tmp_path, "plex_token").rsplit("/", 1)
    with secretstorage.dbus_init() as connection:
        collection = secretstorage.get_default_collection(connection)
        assert len(list(collection.search_items({"service": service, "username": user}))) == 1
    assert os.environ["DBUS_SESSION_BUS_ADDRESS"].endswith(str(keyring_session.socket))
