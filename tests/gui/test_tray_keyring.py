"""Issue 22 in the tray: a keyring locked at login, or one that hangs. The settings say so with
a Retry button, no save that did not set a secret deletes it (settings, a second settings save,
Start at login), and the GUI keeps handling events while the keyring does not answer."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import test_tray_app
from keyring_fakes import ScriptedKeyring
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot
from test_tray_app import save as save_plain

from engine.config.file import PlexSyncConfig, load_config_report, save_config
from engine.config.secret_store import KeyringStore
from engine.paths import AppPaths
from gui.app import TrayApp

# The app fixtures of test_tray_app: a fake engine, a fake autostart, a fake status window.
factory, make_app = test_tray_app.factory, test_tray_app.make_app
opened_urls, paths = test_tray_app.opened_urls, test_tray_app.paths

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (raise|propagateSizeHints)")

TOKEN = "app-test-token-998877"  # as test_tray_app's save()
API_KEY = "tray-Kr1ng-api-key"
TIMEOUT = 0.4  # the injected keyring time-out


@pytest.fixture
def backend() -> Iterator[ScriptedKeyring]:
    keyring = ScriptedKeyring()
    yield keyring
    keyring.release()


def in_keyring(paths: AppPaths, backend: ScriptedKeyring) -> PlexSyncConfig:
    """A configured tray whose token and key are in `backend`."""
    config = save_plain(paths).with_changes(stash_api_key=API_KEY)
    save_config(config, paths.config_file, secrets=KeyringStore(backend))
    assert sorted(backend.items.values()) == sorted([TOKEN, API_KEY])
    return config


def settings(qtbot: QtBot, tray_app: TrayApp):  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: tray_app.settings_dialog is not None, timeout=3000)
    return tray_app.settings_dialog


def close_settings(qtbot: QtBot, tray_app: TrayApp) -> None:
    dialog = tray_app.settings_dialog
    if dialog is not None:
        dialog.reject()
    qtbot.waitUntil(lambda: tray_app.settings_dialog is None, timeout=3000)


def test_a_locked_keyring_at_login_is_shown_with_retry_and_retry_reads_the_secrets(
    qtbot: QtBot,
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
    backend: ScriptedKeyring,
) -> None:
    config = in_keyring(paths, backend)
    backend.locked_calls = 2  # both reads at start: the unlock prompt was dismissed
    tray_app = make_app(secrets=KeyringStore(backend, timeout=TIMEOUT))
    assert tray_app.config.plex_token.get_secret_value() == ""
    dialog = settings(qtbot, tray_app)
    notice = dialog.keyring_notice
    assert notice.isVisible()
    assert "keyring is locked" in notice.text() and "press Retry" in notice.text()
    notice.retry_button.click()  # the user unlocked the keyring
    qtbot.waitUntil(lambda: dialog.plex_token.text() == TOKEN, timeout=3000)
    assert dialog.stash_api_key.text() == API_KEY
    assert not notice.isVisible()
    assert tray_app.config == config  # the engine gets them without a save


def test_a_second_settings_save_after_unlocking_keeps_both_keyring_entries(
    qtbot: QtBot,
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
    backend: ScriptedKeyring,
) -> None:
    in_keyring(paths, backend)
    backend.locked_calls = 2
    tray_app = make_app(secrets=KeyringStore(backend, timeout=TIMEOUT))
    first = settings(qtbot, tray_app)
    first.numbers["poll_interval"].setValue(90)
    assert first.save()
    close_settings(qtbot, tray_app)
    tray_app.open_settings()  # the load report is gone now; the keyring opened meanwhile
    second = tray_app.settings_dialog
    second.numbers["poll_interval"].setValue(120)
    assert second.save()
    assert sorted(backend.items.values()) == sorted([TOKEN, API_KEY])
    assert "keyring is locked" in second.keyring_notice.text()  # still said: not read yet
    loaded = load_config_report(paths.config_file, secrets=KeyringStore(backend))
    assert loaded.config.plex_token.get_secret_value() == TOKEN
    assert loaded.config.poll_interval == 120


def test_start_at_login_with_a_locked_keyring_keeps_both_keyring_entries(
    qtbot: QtBot,
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
    backend: ScriptedKeyring,
) -> None:
    in_keyring(paths, backend)
    backend.locked_calls = 2
    tray_app = make_app(secrets=KeyringStore(backend, timeout=TIMEOUT))
    close_settings(qtbot, tray_app)
    tray_app.set_start_at_login(True)  # the keyring is unlocked by now
    assert sorted(backend.items.values()) == sorted([TOKEN, API_KEY])
    loaded = load_config_report(paths.config_file, secrets=KeyringStore(backend))
    assert loaded.config.start_at_login
    assert loaded.config.plex_token.get_secret_value() == TOKEN


def test_clearing_the_key_in_the_settings_still_removes_it_from_the_keyring(
    qtbot: QtBot,
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
    backend: ScriptedKeyring,
) -> None:
    in_keyring(paths, backend)
    tray_app = make_app(secrets=KeyringStore(backend, timeout=5.0))
    tray_app.open_settings()
    dialog = tray_app.settings_dialog
    dialog.stash_api_key.setText("")
    assert dialog.save()
    assert list(backend.items.values()) == [TOKEN]


def test_the_gui_keeps_handling_events_while_the_keyring_hangs_at_start_and_on_save(
    qtbot: QtBot,
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
    backend: ScriptedKeyring,
) -> None:
    in_keyring(paths, backend)
    backend.hang()  # an unlock prompt nobody answers
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    started = time.monotonic()
    tray_app = make_app(secrets=KeyringStore(backend, timeout=TIMEOUT))
    assert time.monotonic() - started < TIMEOUT + 2
    assert len(ticks) >= 5  # the event loop ran while the keyring did not answer
    dialog = settings(qtbot, tray_app)
    assert "did not answer" in dialog.keyring_notice.text()
    dialog.numbers["poll_interval"].setValue(75)
    assert dialog.save()
    timer.stop()
    backend.release()
    loaded = load_config_report(paths.config_file, secrets=KeyringStore(backend))
    assert loaded.config.plex_token.get_secret_value() == TOKEN  # nothing lost
    assert loaded.config.poll_interval == 75
