"""Issue 22: a secret the keyring withheld is never deleted by a save that did not clear it;
locked and "did not answer" are states of their own; the probe memo is validated input."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from fake_clock import FakeClock
from keyring_fakes import ScriptedKeyring
from secret_fakes import MemorySecretStore
from test_secret_store import API_KEY, TOKEN, ProbedStore, configured, file_data, write_v1

from engine.config.file import Unread, load_config_report, save_config
from engine.config.keyring_memo import REMEMBER_FOR, RememberedProbe
from engine.config.secret_migration import move_secrets_to_store
from engine.config.secret_store import KeyringLockedError, KeyringStore, printable, secret_ref
from engine.config.secrets import keyring_hint

LOCKED = "KeyringLocked: Failed to unlock the collection!"


def saved_with(store: MemorySecretStore, path: Path) -> dict[str, str]:
    save_config(configured(), path, secrets=store)
    return dict(store.values)


# --- point 2: a save that did not set a secret never deletes it ----------------------------------


def test_a_save_after_the_keyring_unlocks_keeps_both_secrets_it_could_not_read(
    tmp_path: Path,
) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    before = saved_with(store, path)
    store.broken = LOCKED  # locked at login: the config loads with empty secrets
    loaded = load_config_report(path, secrets=store)
    assert loaded.unread_secrets == {"plex_token", "stash_api_key"}
    store.broken = None  # unlocked later; then e.g. Start at login saves the loaded config
    save_config(loaded.config.with_changes(start_at_login=True), path, secrets=store)
    assert store.values == before
    assert file_data(path)["plex_token"] == {"keyring": secret_ref(tmp_path, "plex_token")}
    again = load_config_report(path, secrets=store)
    assert again.config.plex_token.get_secret_value() == TOKEN
    assert again.config.stash_api_key is not None
    assert again.config.stash_api_key.get_secret_value() == API_KEY


def test_only_a_secret_the_save_clears_is_removed_from_the_keyring(tmp_path: Path) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    saved_with(store, path)
    emptied = configured().with_changes(plex_token="", stash_api_key=None)
    save_config(emptied, path, secrets=store, cleared_secrets=frozenset({"stash_api_key"}))
    assert list(store.values.values()) == [TOKEN]
    assert file_data(path)["stash_api_key"] is None
    assert file_data(path)["plex_token"] == {"keyring": secret_ref(tmp_path, "plex_token")}


def test_a_locked_keyring_is_its_own_state_with_words_to_unlock_it(tmp_path: Path) -> None:
    backend = ScriptedKeyring()
    store, path = KeyringStore(backend), tmp_path / "config.json"
    save_config(configured(), path, secrets=store)
    backend.locked_calls = 2
    loaded = load_config_report(path, secrets=store)
    assert loaded.keyring_problem is Unread.LOCKED
    assert loaded.problem is not None and "which is locked" in loaded.problem.describe()
    hint = keyring_hint(loaded.keyring_problem)
    assert hint is not None and "unlock it" in hint
    backend.locked_calls = 1
    with pytest.raises(KeyringLockedError):
        store.get(secret_ref(tmp_path, "plex_token"))


def test_start_up_migration_with_a_locked_keyring_leaves_the_secrets_in_the_file(
    tmp_path: Path,
) -> None:
    backend = ScriptedKeyring()
    backend.locked_calls = 10
    path = tmp_path / "config.json"
    write_v1(path)
    assert "settings file" in move_secrets_to_store(path, KeyringStore(backend))
    assert file_data(path)["plex_token"] == TOKEN and file_data(path)["stash_api_key"] == API_KEY
    assert backend.items == {}


def test_migration_never_drops_a_secret_the_keyring_withheld(tmp_path: Path) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    before = saved_with(store, path)
    data = file_data(path)
    data["plex_token"] = TOKEN  # a plain token next to a key the keyring holds
    path.write_text(json.dumps(data), encoding="utf-8")
    store.broken = LOCKED
    move_secrets_to_store(path, store)
    store.broken = None
    assert store.values == before
    assert load_config_report(path, secrets=store).config == configured()


# --- point 9: keyring-probe.json is input, validated; its text never reaches a log raw -------


def memo_file(tmp_path: Path, data: object) -> Path:
    memo = tmp_path / "probe.json"
    memo.write_text(json.dumps(data), encoding="utf-8")
    memo.chmod(0o600)
    return memo


FORGED = "none\n2026-01-01 00:00:00 WARNING plexsync: token sent to evil.example"


@pytest.mark.parametrize(
    "forged",
    [
        {"reason": FORGED, "checked_at": 0.0},
        {"reason": "none\x1b[2J", "checked_at": 0.0},
        {"reason": "x" * 5000, "checked_at": 0.0},
        {"reason": "none", "checked_at": "0"},
        {"reason": "none", "checked_at": True},
        {"reason": "none", "checked_at": 0.0, "extra": 1},
        {"reason": "none"},
    ],
)
def test_a_forged_probe_memo_is_not_trusted(
    tmp_path: Path, fake_clock: FakeClock, forged: dict[str, object]
) -> None:
    if "checked_at" in forged and forged["checked_at"] == 0.0:
        forged["checked_at"] = fake_clock.now() - 10
    inner = ProbedStore(None)  # in truth a keyring is usable
    memo = memo_file(tmp_path, forged)
    assert RememberedProbe(inner, memo, clock=fake_clock).unavailable() is None
    assert inner.probes == 1


@pytest.mark.parametrize("checked_at", [float("nan"), float("inf"), -5.0, 1e300])
def test_a_probe_memo_with_an_impossible_time_is_not_trusted(
    tmp_path: Path, fake_clock: FakeClock, checked_at: float
) -> None:
    inner = ProbedStore(None)
    memo = tmp_path / "probe.json"
    memo.write_text(f'{{"reason": "none", "checked_at": {checked_at!r}}}'.replace("nan", "NaN"))
    memo.chmod(0o600)
    assert RememberedProbe(inner, memo, clock=fake_clock).unavailable() is None


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_probe_memo_others_can_write_is_not_trusted(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    inner, real = ProbedStore(None), {"reason": "none", "checked_at": fake_clock.now()}
    memo_file(tmp_path, real).chmod(0o666)
    assert RememberedProbe(inner, tmp_path / "probe.json", clock=fake_clock).unavailable() is None
    link = tmp_path / "link.json"
    link.symlink_to(memo_file(tmp_path, real))
    assert RememberedProbe(inner, link, clock=fake_clock).unavailable() is None
    memo = memo_file(tmp_path, real)
    assert RememberedProbe(inner, memo, clock=fake_clock).unavailable() == "none"  # a real one


def test_the_memo_we_write_is_private_and_read_back(tmp_path: Path, fake_clock: FakeClock) -> None:
    inner, memo = ProbedStore("none is installed or running"), tmp_path / "data" / "probe.json"
    RememberedProbe(inner, memo, clock=fake_clock).unavailable()
    assert memo.stat().st_mode & 0o777 == 0o600
    fake_clock.advance(REMEMBER_FOR / 2)
    assert RememberedProbe(inner, memo, clock=fake_clock).unavailable() == inner.reason
    assert inner.probes == 1


def test_a_reason_with_control_characters_never_reaches_the_log_raw(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.json"
    write_v1(path)
    move_secrets_to_store(path, ProbedStore(FORGED))
    messages = [record.getMessage() for record in caplog.records]
    assert messages and all("\n" not in m and "\x1b" not in m for m in messages)
    assert any("none\\n2026-01-01" in m for m in messages)


def test_printable_escapes_control_and_format_characters_and_cuts_long_text() -> None:
    assert printable("a\nb\r\x1b[0m\u2028\u200bc") == "a\\nb\\r\\x1b[0m\\u2028\\u200bc"
    assert printable("é ok") == "é ok"
    assert len(printable("x" * 1000)) == 200


def test_a_keyring_error_text_is_escaped_before_it_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    store, path = MemorySecretStore(), tmp_path / "config.json"
    store.broken = "PasswordSetError: no\x1b]0;pwned\x07"
    save_config(configured(), path, secrets=store)
    assert caplog.records and all("\x1b" not in r.getMessage() for r in caplog.records)
