"""The settings dialog: every field, the model's errors inline, OK blocked, saved 0600."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from tray_fakes import FakeAutostart

from engine.config.file import PathMapping, PlexSyncConfig, load_config_report
from engine.errors import UnreachableError
from gui.background import run_inline
from gui.settings.dialog import SettingsDialog

TOKEN = "plex-token-1234567890"


def configured() -> PlexSyncConfig:
    return PlexSyncConfig(
        plex_url="http://127.0.0.1:32400",
        plex_token=TOKEN,
        plex_libraries=["Movies"],
        stash_url="http://127.0.0.1:9999",
        stash_api_key="stash-key-abcdef",
        path_mappings=[PathMapping(stash_prefix="/data", plex_prefix="/media")],
    )


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "config.json"


def make_dialog(
    qtbot: QtBot, config_file: Path, config: PlexSyncConfig | None = None, **kwargs: object
) -> SettingsDialog:
    kwargs.setdefault("runner", run_inline)
    dialog = SettingsDialog(config or configured(), config_file=config_file, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    return dialog


def test_every_config_field_has_an_editor_on_a_tab(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert tabs == ["Plex", "Stash", "Sync", "Metadata", "Resilience", "App"]
    for name in PlexSyncConfig.model_fields:
        if name == "schema_version":
            continue
        assert dialog.findChild(QWidget, name) is not None, f"no editor for {name}"


def test_an_invalid_url_shows_the_models_error_and_blocks_ok(
    qtbot: QtBot, config_file: Path
) -> None:
    dialog = make_dialog(qtbot, config_file)
    dialog.show()
    assert dialog.ok_button.isEnabled()

    dialog.stash_url.setText("localhost:9999")

    error = dialog.errors["stash_url"]
    assert not error.isHidden()
    assert error.text() == "must start with http:// or https://"
    assert not dialog.ok_button.isEnabled()
    assert not dialog.apply_button.isEnabled()
    assert dialog.tabs.tabText(1) == "Stash ⚠"
    assert "Stash" in dialog.banner.text()
    assert dialog.errors["plex_url"].isHidden()

    dialog.stash_url.setText("http://localhost:9999")
    assert error.isHidden()
    assert dialog.ok_button.isEnabled()
    assert dialog.tabs.tabText(1) == "Stash"


def test_clicking_a_blocked_ok_saves_nothing(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    dialog.plex_url.setText("ftp://plex")
    assert not dialog.save()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not config_file.exists()


def test_path_mapping_rows_are_validated(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    dialog.show()
    dialog.mappings.add_button.click()  # a new, empty row is not born with an error
    error = dialog.errors["path_mappings"]
    assert error.isHidden()
    assert dialog.ok_button.isEnabled()
    dialog.mappings.table.item(1, 0).setText("/other")  # half filled: now it is an error
    assert not error.isHidden()
    assert "Row 2, Plex path" in error.text()
    assert not dialog.ok_button.isEnabled()
    dialog.mappings.table.item(1, 1).setText("/mnt/other")
    assert dialog.ok_button.isEnabled()
    dialog.mappings.table.selectRow(0)
    dialog.mappings.remove_button.click()
    assert dialog.config is not None
    assert dialog.config.path_mappings == [
        PathMapping(stash_prefix="/other", plex_prefix="/mnt/other")
    ]


def test_numbers_are_bounded_by_the_model(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    box = dialog.numbers["failure_threshold"]
    assert (box.minimum(), box.maximum()) == (1, 100)
    retention = dialog.numbers["dlq_retention_days"]
    assert (retention.minimum(), retention.maximum()) == (1, 365)


def test_secrets_are_masked_with_a_reveal_toggle(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    token = dialog.plex_token
    assert token.edit.echoMode() == QLineEdit.EchoMode.Password
    assert token.text() == TOKEN
    token.reveal.click()
    assert token.edit.echoMode() == QLineEdit.EchoMode.Normal
    token.reveal.click()
    assert token.edit.echoMode() == QLineEdit.EchoMode.Password
    assert dialog.stash_api_key.edit.echoMode() == QLineEdit.EchoMode.Password


def test_ok_saves_a_valid_config_with_mode_0600(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file, PlexSyncConfig())
    dialog.show()
    dialog.plex_url.setText("http://10.0.0.5:32400/")
    dialog.plex_token.setText(TOKEN)
    dialog.numbers["failure_threshold"].setValue(3)
    dialog.checks["sync_poster"].setChecked(False)

    with qtbot.waitSignal(dialog.config_saved) as saved:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    config = saved.args[0]
    assert isinstance(config, PlexSyncConfig)
    assert config.plex_url == "http://10.0.0.5:32400"
    assert config.plex_token.get_secret_value() == TOKEN
    assert config.failure_threshold == 3 and not config.sync_poster
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert load_config_report(config_file).config == config
    assert dialog.result() == SettingsDialog.DialogCode.Accepted


def test_apply_saves_and_stays_open(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    dialog.show()
    assert not dialog.apply_button.isEnabled()  # nothing changed yet
    dialog.numbers["poll_interval"].setValue(12)
    assert dialog.apply_button.isEnabled()
    with qtbot.waitSignal(dialog.config_saved):
        dialog.apply_button.click()
    assert dialog.isVisible()
    assert not dialog.apply_button.isEnabled()
    assert load_config_report(config_file).config.poll_interval == 12


def test_plex_test_lists_libraries_to_pick(qtbot: QtBot, config_file: Path) -> None:
    seen: list[PlexSyncConfig] = []

    def tester(config: PlexSyncConfig) -> list[str]:
        seen.append(config)
        return ["Movies", "Documentaries"]

    dialog = make_dialog(qtbot, config_file, plex_tester=tester)
    dialog.plex_url.setText("http://192.168.1.9:32400")
    dialog.stash_url.setText("not a url")  # mid-edit elsewhere does not block the test
    dialog.plex_test.click()

    assert seen[0].plex_url == "http://192.168.1.9:32400"
    assert dialog.plex_result.text() == "✓ Connected: 2 movie libraries."
    assert dialog.libraries.titles() == ["Movies", "Documentaries"]
    assert dialog.libraries.chosen() == ["Movies"]
    dialog.libraries.item(1).setCheckState(Qt.CheckState.Checked)
    dialog.stash_url.setText("http://127.0.0.1:9999")
    assert dialog.config is not None
    assert dialog.config.plex_libraries == ["Movies", "Documentaries"]


def test_connection_errors_are_in_plain_words(qtbot: QtBot, config_file: Path) -> None:
    def plex(config: PlexSyncConfig) -> list[str]:
        raise UnreachableError("Plex is unreachable", "the connection was refused")

    def stash(config: PlexSyncConfig) -> str:
        raise RuntimeError("socket exploded with secret details")

    dialog = make_dialog(qtbot, config_file, plex_tester=plex, stash_tester=stash)
    dialog.plex_test.click()
    assert dialog.plex_result.text() == "✗ Plex is unreachable: the connection was refused"
    assert dialog.plex_test.isEnabled()
    dialog.stash_test.click()
    assert dialog.stash_result.text() == "✗ The test failed unexpectedly; the log has the details."


def test_connection_tests_run_off_the_ui_thread(qtbot: QtBot, config_file: Path) -> None:
    threads: list[int] = []
    release = threading.Event()

    def stash(config: PlexSyncConfig) -> str:
        threads.append(threading.get_ident())
        release.wait(5)
        return "v0.27.2"

    from gui.background import run_in_thread

    dialog = make_dialog(qtbot, config_file, stash_tester=stash, runner=run_in_thread)
    dialog.stash_test.click()
    assert dialog.stash_result.text() == "Testing…"  # the UI thread is free meanwhile
    assert not dialog.stash_test.isEnabled()
    release.set()
    qtbot.waitUntil(lambda: dialog.stash_result.text() == "✓ Connected to Stash v0.27.2.")
    assert threads and threads[0] != threading.get_ident()


def test_start_at_login_shows_and_writes_the_real_entry(qtbot: QtBot, config_file: Path) -> None:
    autostart = FakeAutostart(enabled=True, problem="The login entry points to /gone.")
    dialog = make_dialog(qtbot, config_file, autostart=autostart)
    dialog.show()
    assert dialog.checks["start_at_login"].isChecked()
    assert not dialog.autostart_problem.isHidden()
    assert "/gone" in dialog.autostart_problem.text()
    assert dialog.save()
    assert autostart.writes == [True]  # repaired
    dialog.checks["start_at_login"].setChecked(False)
    assert dialog.save()
    assert autostart.writes == [True, False]
    assert not load_config_report(config_file).config.start_at_login


def test_a_save_failure_is_shown(qtbot: QtBot, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    dialog = make_dialog(qtbot, blocker / "config.json")
    assert not dialog.save()
    assert dialog.banner.text().startswith("Could not save the settings")


def broken_file(config_file: Path, **fields: object) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    base = {"plex_url": "http://127.0.0.1:32400", "plex_token": TOKEN, "poll_interval": 0}
    config_file.write_text(json.dumps({**base, **fields}))
    config_file.chmod(0o600)


def test_a_load_problem_is_shown_in_the_dialog_until_the_field_is_fixed(
    qtbot: QtBot, config_file: Path
) -> None:
    broken_file(config_file)
    loaded = load_config_report(config_file)
    dialog = make_dialog(qtbot, config_file, loaded.config, load_report=loaded)
    assert not dialog.notice.isHidden() and "poll_interval" in dialog.notice.text()
    label = dialog.errors["poll_interval"]
    assert not label.isHidden() and "default 30" in label.text()
    assert dialog.ok_button.isEnabled() and dialog.apply_button.isEnabled()
    dialog.numbers["poll_interval"].setValue(15)
    assert label.isHidden()  # changed by the user: the file's problem no longer applies
    dialog.numbers["poll_interval"].setValue(30)
    assert not label.isHidden()
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert label.isHidden() and dialog.notice.isHidden()
    assert load_config_report(config_file).problem is None
    assert len(list(config_file.parent.glob("config.json.*.bak"))) == 1  # the old text is kept


def test_an_exposed_file_offers_to_make_it_private(qtbot: QtBot, config_file: Path) -> None:
    broken_file(config_file, poll_interval=10)
    config_file.chmod(0o644)
    loaded = load_config_report(config_file)
    assert loaded.exposed and loaded.problem is None
    dialog = make_dialog(qtbot, config_file, loaded.config, load_report=loaded)
    assert "other users can read it" in dialog.notice.text()
    assert not dialog.notice.fix_button.isHidden()
    qtbot.mouseClick(dialog.notice.fix_button, Qt.MouseButton.LeftButton)
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert dialog.notice.fix_button.isHidden() and "0600" in dialog.notice.text()


def test_a_ca_bundle_must_be_an_existing_file(
    qtbot: QtBot, config_file: Path, tmp_path: Path
) -> None:
    dialog = make_dialog(qtbot, config_file)
    dialog.plex_ca_bundle.setText(str(tmp_path / "missing.pem"))
    assert (
        not dialog.ok_button.isEnabled()
        and "no such file" in dialog.errors["plex_ca_bundle"].text()
    )
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    dialog.plex_ca_bundle.setText(str(bundle))
    assert dialog.ok_button.isEnabled()
    assert dialog.config is not None and dialog.config.plex_ca_bundle == str(bundle)


def test_library_check_schedule_is_edited_and_saved(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    assert dialog.library_check.currentData() == "weekly"  # the default
    dialog.library_check.setCurrentIndex(dialog.library_check.findData("daily"))
    config = dialog.validate()
    assert config is not None and config.library_check == "daily"
