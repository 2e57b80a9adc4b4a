"""Secrets in a secret store: saving, reading, the start-up move, and the file fallback."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import KeyringLocked, PasswordDeleteError
from secret_fakes import MemorySecretStore

from engine.config.file import PlexSyncConfig, load_config_report, save_config
from engine.config.keyring_memo import REMEMBER_FOR, RememberedProbe
from engine.config.migrate import migrate
from engine.config.secret_migration import move_secrets_to_store
from engine.config.secret_store import KeyringStore, SecretStoreError, secret_ref, storage_text

TOKEN = "tok-Kr1ng-secret-value"
API_KEY = "stash-Kr1ng-api-key"


def configured() -> PlexSyncConfig:
    url = "http://127.0.0.1:32400"
    return PlexSyncConfig(plex_url=url, plex_token=TOKEN, stash_api_key=API_KEY)


def write_v1(path: Path, **extra: Any) -> None:
    data = {"schema_version": 1, "plex_url": "http://127.0.0.1:32400", "plex_token": TOKEN}
    path.write_text(json.dumps({**data, "stash_api_key": API_KEY, **extra}), encoding="utf-8")
    path.chmod(0o600)


def file_data(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


class DictBackend(KeyringBackend):
    """A keyring backend in memory, to test our adapter around keyring's own API."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.locked = False

    def get_password(self, service: str, username: str) -> str | None:
        if self.locked:
            raise KeyringLocked("Failed to unlock the collection!")
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


# --- saving and reading through a store ---------------------------------------------------------


def test_save_puts_secrets_in_the_store_and_only_references_in_the_file(tmp_path: Path) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    save_config(configured(), path, secrets=store)
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text and API_KEY not in text
    ref = secret_ref(tmp_path, "plex_token")
    assert file_data(path)["plex_token"] == {"keyring": ref}
    assert store.values[ref] == TOKEN
    assert store.values[secret_ref(tmp_path, "stash_api_key")] == API_KEY
    loaded = load_config_report(path, secrets=store)
    assert loaded.problem is None
    assert loaded.config == configured()
    assert loaded.in_store == ("plex_token", "stash_api_key")


def test_each_config_dir_has_its_own_reference(tmp_path: Path) -> None:
    assert secret_ref(tmp_path / "a", "plex_token") != secret_ref(tmp_path / "b", "plex_token")
    assert secret_ref(tmp_path, "plex_token").startswith("plexsync-tray/")


def test_a_store_that_loses_the_write_leaves_the_secret_in_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    store.lossy = True
    save_config(configured(), path, secrets=store)
    assert file_data(path)["plex_token"] == TOKEN  # read back differed: never dropped
    assert "did not give back" in caplog.text
    assert TOKEN not in caplog.text


def test_clearing_a_secret_removes_it_from_the_store(tmp_path: Path) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    save_config(configured(), path, secrets=store)
    cleared = frozenset({"stash_api_key"})
    emptied = configured().with_changes(stash_api_key=None)
    save_config(emptied, path, secrets=store, cleared_secrets=cleared)
    assert file_data(path)["stash_api_key"] is None
    assert list(store.values.values()) == [TOKEN]


def test_an_unreadable_store_is_a_named_problem_and_saving_keeps_the_reference(
    tmp_path: Path,
) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    save_config(configured(), path, secrets=store)
    store.broken = "KeyringLocked: Failed to unlock the collection!"
    loaded = load_config_report(path, secrets=store)
    assert loaded.config.plex_token.get_secret_value() == ""
    assert loaded.problem is not None
    fields = {p.field: p.message for p in loaded.problem.fields}
    assert "could not be read (KeyringLocked" in fields["plex_token"]
    save_config(loaded.config.with_changes(poll_interval=60), path, secrets=store)
    store.broken = None
    again = load_config_report(path, secrets=store)
    assert again.config.plex_token.get_secret_value() == TOKEN  # the pointer survived
    assert again.config.poll_interval == 60


def test_a_secret_unread_at_load_survives_a_save_after_the_keyring_unlocks(
    tmp_path: Path,
) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    save_config(configured(), path, secrets=store)
    store.broken = "KeyringLocked: Failed to unlock the collection!"
    loaded = load_config_report(path, secrets=store)
    store.broken = None  # the user unlocked the keyring while the settings were open
    changed = loaded.config.with_changes(poll_interval=60)
    save_config(changed, path, secrets=store)  # it did not set them: empty means "not read"
    again = load_config_report(path, secrets=store)
    assert again.config.plex_token.get_secret_value() == TOKEN  # empty meant unknown, not cleared
    assert sorted(store.values.values()) == sorted([TOKEN, API_KEY])


def test_a_secret_missing_from_the_store_is_named(tmp_path: Path) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    save_config(configured(), path, secrets=store)
    store.values.clear()
    loaded = load_config_report(path, secrets=store)
    assert loaded.problem is not None
    assert "missing from the system keyring" in loaded.problem.describe()


def test_a_reference_file_is_not_exposed_nor_backed_up_as_broken(tmp_path: Path) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    save_config(configured(), path, secrets=store)
    path.chmod(0o644)
    assert not load_config_report(path, secrets=store).exposed
    save_config(configured(), path, secrets=store)
    assert not list(tmp_path.glob("*.bak"))


def test_a_malformed_reference_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    write_v1(path, plex_token={"keyring": "elsewhere/x"})
    loaded = load_config_report(path, secrets=MemorySecretStore())
    assert loaded.problem is not None
    assert [p.field for p in loaded.problem.fields] == ["plex_token"]


# --- schema migration ---------------------------------------------------------------------------


def test_schema_1_reads_as_schema_2_without_changing_the_file(tmp_path: Path) -> None:
    assert migrate({"schema_version": 1, "plex_token": "x"}) == {
        "schema_version": 2,
        "plex_token": "x",
    }
    path = tmp_path / "config.json"
    write_v1(path)
    before = path.read_bytes()
    loaded = load_config_report(path)
    assert loaded.problem is None
    assert loaded.config.plex_token.get_secret_value() == TOKEN
    assert path.read_bytes() == before


def test_a_newer_schema_is_left_to_validation(tmp_path: Path) -> None:
    assert migrate({"schema_version": 99}) == {"schema_version": 99}
    path = tmp_path / "config.json"
    write_v1(path, schema_version=99)
    assert load_config_report(path).problem is not None


# --- moving secrets at start ------------------------------------------------------------------


def test_start_moves_a_v1_files_secrets_into_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    store, path = MemorySecretStore(), tmp_path / "config.json"
    write_v1(path, poll_interval=45)
    assert move_secrets_to_store(path, store) == store.name
    data = file_data(path)
    assert data["schema_version"] == 2
    assert TOKEN not in path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o777 == 0o600
    assert store.calls[:2] == ["set", "get"]  # written, read back, only then the file changed
    loaded = load_config_report(path, secrets=store)
    assert loaded.config == configured().with_changes(poll_interval=45)
    assert TOKEN not in caplog.text and "Moved plex_token, stash_api_key" in caplog.text


def test_start_leaves_the_file_when_the_store_fails(tmp_path: Path) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    write_v1(path)
    before = path.read_bytes()
    store.broken = "PasswordSetError: no"
    assert "settings file" in move_secrets_to_store(path, store)
    assert file_data(path)["plex_token"] == TOKEN
    assert json.loads(before)["plex_token"] == TOKEN


def test_start_leaves_an_invalid_file_alone(tmp_path: Path) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    write_v1(path, poll_interval=-5)
    before = path.read_bytes()
    move_secrets_to_store(path, store)
    assert path.read_bytes() == before
    assert store.values == {}


# --- keyring's backends: the adapter, and no usable backend -----------------------------------


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_no_keyring_backend_falls_back_to_the_file_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, backend: KeyringBackend
) -> None:
    store, path = KeyringStore(backend), tmp_path / "config.json"
    assert store.unavailable() == "none is installed or running"
    assert "settings file" in storage_text(store) and "no usable system keyring" in storage_text(
        store
    )
    write_v1(path)
    before = path.read_bytes()
    move_secrets_to_store(path, store)
    assert path.read_bytes() == before
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "No usable system keyring" in warnings[0].getMessage()
    save_config(configured(), path, secrets=store)
    assert file_data(path)["plex_token"] == TOKEN
    assert path.stat().st_mode & 0o777 == 0o600


def test_keyring_store_round_trips_through_a_keyring_backend(tmp_path: Path) -> None:
    backend = DictBackend()
    store, path = KeyringStore(backend), tmp_path / "config.json"
    assert store.unavailable() is None
    assert store.name == "the system keyring (test secret store DictBackend)"
    save_config(configured(), path, secrets=store)
    ref = secret_ref(tmp_path, "plex_token")
    service, user = ref.rsplit("/", 1)
    assert backend.items[(service, user)] == TOKEN
    store.delete(ref)
    store.delete(ref)  # already gone: not an error
    assert store.get(ref) is None


def test_a_locked_keyring_is_a_store_error(tmp_path: Path) -> None:
    backend = DictBackend()
    backend.locked = True
    with pytest.raises(SecretStoreError, match="KeyringLocked"):
        KeyringStore(backend).get(secret_ref(tmp_path, "plex_token"))


# --- "no keyring here", remembered by `plexsync run` ------------------------------------------


class ProbedStore(MemorySecretStore):
    """A store whose probe answer is set by the test, and counted."""

    def __init__(self, reason: str | None) -> None:
        super().__init__()
        self.reason, self.probes = reason, 0

    def unavailable(self) -> str | None:
        self.probes += 1
        return self.reason


def test_no_keyring_is_remembered_for_an_hour_then_asked_again(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    inner, memo = ProbedStore("none is installed or running"), tmp_path / "data" / "probe.json"
    assert RememberedProbe(inner, memo, clock=fake_clock).unavailable() == inner.reason
    fake_clock.advance(REMEMBER_FOR - 1)
    again = RememberedProbe(inner, memo, clock=fake_clock)  # the next `run --once`
    assert again.unavailable() == inner.reason and inner.probes == 1
    fake_clock.advance(1)
    inner.reason = None  # a keyring started meanwhile
    assert RememberedProbe(inner, memo, clock=fake_clock).unavailable() is None
    assert inner.probes == 2 and not memo.exists()  # a usable keyring is never remembered
    assert RememberedProbe(inner, memo, clock=fake_clock).unavailable() is None
    assert inner.probes == 3


@pytest.mark.parametrize("text", ["{", '{"reason": 5, "checked_at": 1}', "[]", ""])
def test_a_damaged_or_backdated_memo_means_asking_the_keyring(
    tmp_path: Path, fake_clock: FakeClock, text: str
) -> None:
    inner, memo = ProbedStore("none"), tmp_path / "probe.json"
    memo.write_text(text)
    assert RememberedProbe(inner, memo, clock=fake_clock).unavailable() == "none"
    memo.write_text(json.dumps({"reason": "none", "checked_at": fake_clock.now() + 60}))
    assert RememberedProbe(inner, memo, clock=fake_clock).unavailable() == "none"
    assert inner.probes == 2  # a memo from the future (clock set back) is not trusted


def test_secrets_still_move_through_a_remembering_store(tmp_path: Path) -> None:
    inner, path = ProbedStore(None), tmp_path / "config.json"
    write_v1(path)
    store = RememberedProbe(inner, tmp_path / "probe.json")
    assert move_secrets_to_store(path, store) == inner.name
    assert TOKEN not in path.read_text(encoding="utf-8") and inner.calls[:2] == ["set", "get"]
