"""The settings dialog says where the token and API key are kept, and saves them there."""

from __future__ import annotations

import json
from pathlib import Path

from keyring.backends import fail
from pytestqt.qtbot import QtBot
from secret_fakes import MemorySecretStore
from test_tray_settings_dialog import configured, make_dialog

from engine.config.file import load_config_report, save_config
from engine.config.secret_store import KeyringStore


def test_the_dialog_names_the_keyring_and_saves_the_token_there(
    qtbot: QtBot, tmp_path: Path
) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    dialog = make_dialog(qtbot, path, secrets=store)
    assert dialog.secret_storage.text() == (
        "The token and API key are kept in the system keyring (memory)."
    )
    assert dialog.save()
    token = configured().plex_token.get_secret_value()
    assert token in store.values.values()
    assert token not in path.read_text(encoding="utf-8")
    assert "keyring" in json.loads(path.read_text(encoding="utf-8"))["plex_token"]


def test_without_a_usable_keyring_the_dialog_says_the_file_and_why(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "config.json"
    dialog = make_dialog(qtbot, path, secrets=KeyringStore(fail.Keyring()))
    text = dialog.secret_storage.text()
    assert "settings file" in text and "no usable system keyring" in text
    assert dialog.save()
    token = configured().plex_token.get_secret_value()
    assert json.loads(path.read_text(encoding="utf-8"))["plex_token"] == token


def test_a_token_the_keyring_could_not_give_at_load_survives_saving(
    qtbot: QtBot, tmp_path: Path
) -> None:
    store, path = MemorySecretStore(), tmp_path / "config.json"
    save_config(configured(), path, secrets=store)
    store.broken = "KeyringLocked: Failed to unlock the collection!"
    loaded = load_config_report(path, secrets=store)
    dialog = make_dialog(qtbot, path, loaded.config, secrets=store, load_report=loaded)
    store.broken = None  # unlocked while the dialog was open; the user changes something else
    dialog.numbers["poll_interval"].setValue(90)
    assert dialog.save()
    token = configured().plex_token.get_secret_value()
    assert load_config_report(path, secrets=store).config.plex_token.get_secret_value() == token
