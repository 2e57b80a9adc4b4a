"""Issue 22: a keyring that hangs or is locked, in process and behind the CLI. A hung keyring
costs one bounded time-out and says "did not answer"; every command that saves the config keeps
the keyring entries it could not read."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring_fakes import STATE_VAR, FileKeyring, ScriptedKeyring
from test_secret_store import API_KEY, TOKEN, configured, file_data, write_v1

from engine.config.file import Unread, load_config_report, save_config
from engine.config.secret_migration import move_secrets_to_store
from engine.config.secret_store import (
    KEYRING_TIMEOUT,
    KeyringStore,
    KeyringTimeoutError,
    secret_ref,
)

TESTS = Path(__file__).resolve().parents[1]
TIMEOUT = 0.3  # the injected keyring time-out for in-process tests


@pytest.fixture
def hanging() -> Iterator[ScriptedKeyring]:
    backend = ScriptedKeyring()
    yield backend
    backend.release()  # the worker threads left behind end with the test


def test_a_hanging_keyring_costs_one_time_out_and_is_its_own_state(
    tmp_path: Path, hanging: ScriptedKeyring
) -> None:
    path = tmp_path / "config.json"
    save_config(configured(), path, secrets=KeyringStore(hanging))
    hanging.hang()
    store = KeyringStore(hanging, timeout=TIMEOUT)
    started = time.monotonic()
    loaded = load_config_report(path, secrets=store)
    move_secrets_to_store(path, store)  # what `run` does next
    save_config(loaded.config, path, secrets=store)
    elapsed = time.monotonic() - started
    assert elapsed < 3 * TIMEOUT  # one time-out, then every later call fails at once
    assert loaded.keyring_problem is Unread.NO_ANSWER
    assert loaded.problem is not None and "did not answer" in loaded.problem.describe()
    assert loaded.unread_secrets == {"plex_token", "stash_api_key"}
    with pytest.raises(KeyringTimeoutError):
        store.get(secret_ref(tmp_path, "plex_token"))
    hanging.release()  # it answers again: nothing was lost meanwhile
    again = load_config_report(path, secrets=KeyringStore(hanging, timeout=5.0))
    assert again.config == configured()


def test_a_keyring_that_hangs_while_saving_keeps_the_new_token_in_the_private_file(
    tmp_path: Path, hanging: ScriptedKeyring
) -> None:
    path = tmp_path / "config.json"
    hanging.hang()
    started = time.monotonic()
    save_config(configured(), path, secrets=KeyringStore(hanging, timeout=TIMEOUT))
    assert time.monotonic() - started < 3 * TIMEOUT
    assert file_data(path)["plex_token"] == TOKEN  # not lost: in the 0600 file, as without one
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_hang_that_ends_lets_later_calls_through(
    tmp_path: Path, hanging: ScriptedKeyring
) -> None:
    store, ref = KeyringStore(hanging, timeout=TIMEOUT), secret_ref(tmp_path, "plex_token")
    hanging.hang()
    with pytest.raises(KeyringTimeoutError):
        store.get(ref)
    hanging.release()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            store.set(ref, TOKEN)
            break
        except KeyringTimeoutError:
            time.sleep(0.02)  # the hung call is still returning
    assert store.get(ref) == TOKEN


# --- the CLI, as a user runs it, with the fake keyring in a state file ----------------------------


def plexsync(
    config_dir: Path, keyring: Path, *args: str, stdin: str = "", timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring_fakes.FileKeyring",
        STATE_VAR: str(keyring),
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    argv = [sys.executable, "-m", "engine.cli", "--config-dir", str(config_dir), *args]
    return subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config whose token and key are in the fake keyring (saved through it in process)."""
    state = tmp_path / "keyring.json"
    FileKeyring.write_state(state)
    monkeypatch.setenv(STATE_VAR, str(state))
    save_config(configured(), tmp_path / "config.json", secrets=KeyringStore(FileKeyring()))
    return state


def entries(state: Path) -> list[str]:
    return sorted(FileKeyring.read_state(state)["items"].values())


def test_cli_config_show_with_a_hanging_keyring_ends_and_says_it_did_not_answer(
    tmp_path: Path, keyring_file: Path
) -> None:
    FileKeyring.write_state(keyring_file, **{**FileKeyring.read_state(keyring_file), "hang": True})
    started = time.monotonic()
    done = plexsync(tmp_path, keyring_file, "config", "show", timeout=KEYRING_TIMEOUT + 15)
    assert time.monotonic() - started < KEYRING_TIMEOUT + 10
    assert "did not answer" in done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_cli_config_set_with_a_locked_keyring_saves_and_keeps_both_entries(
    tmp_path: Path, keyring_file: Path
) -> None:
    # Locked for the load's two reads (prompts dismissed), then unlocked for the save.
    FileKeyring.write_state(
        keyring_file, **{**FileKeyring.read_state(keyring_file), "locked_calls": 2}
    )
    done = plexsync(tmp_path, keyring_file, "config", "set", "poll_interval", "90")
    assert done.returncode == 0, done.stderr
    assert "locked" in done.stderr and "unlock it" in done.stderr
    assert entries(keyring_file) == sorted([TOKEN, API_KEY])
    loaded = load_config_report(tmp_path / "config.json", secrets=KeyringStore(FileKeyring()))
    assert loaded.config == configured().with_changes(poll_interval=90)


def test_cli_config_init_with_a_locked_keyring_keeps_the_key_it_could_not_read(
    tmp_path: Path, keyring_file: Path
) -> None:
    FileKeyring.write_state(
        keyring_file, **{**FileKeyring.read_state(keyring_file), "locked_calls": 2}
    )
    url = "--plex-url=http://127.0.0.1:32401"
    args = ("config", "init", "--force", "--no-test", url, "--plex-token", "-")
    done = plexsync(tmp_path, keyring_file, *args, stdin="new-T0ken-value\n")
    assert done.returncode == 0, done.stderr
    assert entries(keyring_file) == sorted(["new-T0ken-value", API_KEY])


def test_cli_set_secret_with_an_empty_value_still_clears_it(
    tmp_path: Path, keyring_file: Path
) -> None:
    done = plexsync(tmp_path, keyring_file, "config", "set-secret", "stash_api_key", stdin="\n")
    assert done.returncode == 0, done.stderr
    assert entries(keyring_file) == [TOKEN]
    assert file_data(tmp_path / "config.json")["stash_api_key"] is None


def test_cli_run_with_a_locked_keyring_says_to_unlock_it_and_changes_nothing(
    tmp_path: Path, keyring_file: Path
) -> None:
    before = (tmp_path / "config.json").read_bytes()
    FileKeyring.write_state(
        keyring_file, **{**FileKeyring.read_state(keyring_file), "locked_calls": 9}
    )
    done = plexsync(tmp_path, keyring_file, "run", "--once")
    assert done.returncode != 0
    assert "unlock it" in done.stderr
    assert (tmp_path / "config.json").read_bytes() == before
    assert entries(keyring_file) == sorted([TOKEN, API_KEY])


def test_cli_migration_with_a_locked_keyring_keeps_the_secrets_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "keyring.json"
    FileKeyring.write_state(state, locked_calls=99)
    monkeypatch.setenv(STATE_VAR, str(state))
    write_v1(tmp_path / "config.json")
    assert "settings file" in move_secrets_to_store(
        tmp_path / "config.json", KeyringStore(FileKeyring())
    )
    assert file_data(tmp_path / "config.json")["plex_token"] == TOKEN
