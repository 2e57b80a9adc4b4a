"""The composition root with a fake engine: first run, settings to engine, fallback, windows."""

from __future__ import annotations

import json
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon
from pytestqt.qtbot import QtBot
from tray_fakes import FakeAutostart, FakeRuntimeFactory

from engine.config.file import PlexSyncConfig, load_config_report, save_config
from engine.paths import AppPaths
from gui import app as app_module
from gui.app import TrayApp
from gui.launcher import parse_args
from gui.presentation import TrayState
from gui.settings.tables import TAB_TITLES

TOKEN = "app-test-token-998877"

# The offscreen platform cannot raise windows or pass size hints; real platforms can.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (raise|propagateSizeHints)")


class FakeStatusWindow(QObject):
    settings_requested = Signal()
    instances: ClassVar[list[FakeStatusWindow]] = []

    def __init__(self, bridge: object, database: Path) -> None:
        super().__init__()
        self.bridge, self.database = bridge, database
        self.calls: list[str] = []
        self.instances.append(self)

    def show_and_raise(self) -> None:
        self.calls.append("show")

    def show_dlq(self) -> None:
        self.calls.append("dlq")

    def shutdown(self) -> None:
        self.calls.append("shutdown")


class Clock:
    def __init__(self) -> None:
        self.mono = 50.0

    def __call__(self) -> float:
        return self.mono


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.in_dir(tmp_path / "dir").ensure()


@pytest.fixture
def factory() -> FakeRuntimeFactory:
    return FakeRuntimeFactory()


@pytest.fixture
def opened_urls() -> list[QUrl]:
    return []


@pytest.fixture
def make_app(
    qtbot: QtBot,
    paths: AppPaths,
    factory: FakeRuntimeFactory,
    opened_urls: list[QUrl],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[object]:
    apps: list[TrayApp] = []
    monkeypatch.setattr(TrayApp, "quit", lambda self: setattr(self, "quit_called", True))
    FakeStatusWindow.instances.clear()

    def make(**kwargs: object) -> TrayApp:
        kwargs.setdefault("runtime_factory", factory)
        kwargs.setdefault("autostart", FakeAutostart())
        kwargs.setdefault("tray_available", lambda: True)
        kwargs.setdefault("open_url", opened_urls.append)
        kwargs.setdefault("status_window_cls", FakeStatusWindow)
        tray_app = TrayApp(paths, **kwargs)  # type: ignore[arg-type]
        tray_app.start()
        apps.append(tray_app)
        return tray_app

    yield make
    for tray_app in apps:
        assert tray_app.shutdown()
        if tray_app.settings_dialog is not None:
            tray_app.settings_dialog.close()
        if tray_app.fallback is not None:
            tray_app.fallback.hide()


def _unused_url() -> str:
    """An address nothing answers on: the defaults (localhost:9999, :32400) may be a real Stash
    or Plex on a developer's machine, which would decide what the tray shows."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def save(paths: AppPaths, **fields: object) -> PlexSyncConfig:
    fields = {"stash_url": _unused_url(), **fields}
    config = PlexSyncConfig(plex_url=_unused_url(), plex_token=TOKEN, **fields)  # type: ignore[arg-type]
    save_config(config, paths.config_file)
    return config


def test_first_run_without_config_opens_the_settings(qtbot: QtBot, make_app, paths) -> None:  # type: ignore[no-untyped-def]
    tray_app = make_app()
    qtbot.waitUntil(lambda: tray_app.settings_dialog is not None, timeout=2000)
    assert tray_app.settings_dialog.isVisible()
    assert tray_app.tray.state is TrayState.UNCONFIGURED


def test_an_existing_config_goes_to_the_engine(qtbot: QtBot, make_app, paths, factory) -> None:  # type: ignore[no-untyped-def]
    config = save(paths, poll_interval=7)
    tray_app = make_app()
    qtbot.wait(10)
    assert tray_app.settings_dialog is None
    assert factory.opened_with == config
    assert tray_app.bridge.is_running()
    assert tray_app.tray.state is TrayState.CLOSED


def test_settings_are_saved_0600_and_applied_to_the_running_engine(
    qtbot: QtBot,
    make_app,
    paths,
    factory,  # type: ignore[no-untyped-def]
) -> None:
    tray_app = make_app()
    qtbot.waitUntil(lambda: tray_app.settings_dialog is not None, timeout=2000)
    dialog = tray_app.settings_dialog
    dialog.plex_url.setText("http://192.168.0.2:32400")
    dialog.plex_token.setText(TOKEN)
    dialog.numbers["recovery_timeout"].setValue(42)
    dialog.ok_button.click()

    mode = stat.S_IMODE(paths.config_file.stat().st_mode)
    assert mode == 0o600
    saved = load_config_report(paths.config_file).config
    assert saved.plex_url == "http://192.168.0.2:32400" and saved.recovery_timeout == 42
    qtbot.waitUntil(lambda: factory.engine.applied == [saved], timeout=2000)
    qtbot.waitUntil(lambda: tray_app.tray.state is TrayState.CLOSED, timeout=2000)
    qtbot.waitUntil(lambda: tray_app.settings_dialog is None, timeout=2000)
    assert tray_app.masker.mask(f"token={TOKEN}") == "token=********"


def test_menu_actions_reach_the_engine_thread(qtbot: QtBot, make_app, paths, factory) -> None:  # type: ignore[no-untyped-def]
    save(paths)
    tray_app = make_app()
    tray_app.tray.menu.aboutToShow.emit()
    tray_app.tray.sync_now_action.trigger()
    tray_app.tray.pause_actions[2].trigger()
    qtbot.waitUntil(lambda: tray_app.tray.state is TrayState.PAUSED, timeout=2000)
    assert factory.engine.command_names() == ["sync_now", "pause"]
    tray_app.tray.menu.aboutToShow.emit()
    tray_app.tray.resume_action.trigger()
    qtbot.waitUntil(lambda: tray_app.tray.state is TrayState.CLOSED, timeout=2000)


def test_status_window_from_click_menu_and_second_launch(qtbot: QtBot, make_app, paths) -> None:  # type: ignore[no-untyped-def]
    save(paths)
    tray_app = make_app()
    tray_app.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    tray_app.tray.status_window_action.trigger()
    tray_app.activate()
    tray_app.open_dead_letters()
    (window,) = FakeStatusWindow.instances
    assert window.database == paths.database
    assert window.bridge is tray_app.bridge
    assert window.calls == ["show", "show", "show", "dlq"]
    window.settings_requested.emit()
    assert tray_app.settings_dialog is not None


def test_without_a_status_window_a_click_opens_the_settings(qtbot: QtBot, make_app, paths) -> None:  # type: ignore[no-untyped-def]
    save(paths)
    tray_app = make_app(status_window_cls=None)
    tray_app.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert tray_app.settings_dialog is not None


def test_open_log_folder(qtbot: QtBot, make_app, paths, opened_urls) -> None:  # type: ignore[no-untyped-def]
    save(paths)
    tray_app = make_app()
    tray_app.tray.log_action.trigger()
    assert opened_urls == [QUrl.fromLocalFile(str(paths.log_dir))]


def test_start_at_login_from_the_menu_is_saved(qtbot: QtBot, make_app, paths) -> None:  # type: ignore[no-untyped-def]
    save(paths)
    autostart = FakeAutostart()
    tray_app = make_app(autostart=autostart)
    tray_app.tray.autostart_action.trigger()
    assert autostart.enabled
    assert tray_app.tray.autostart_action.isChecked()
    assert load_config_report(paths.config_file).config.start_at_login


def test_no_tray_shows_the_fallback_window(qtbot: QtBot, make_app, paths) -> None:  # type: ignore[no-untyped-def]
    save(paths)
    tray_app = make_app(tray_available=lambda: False)
    assert tray_app.fallback is not None and tray_app.fallback.isVisible()
    assert tray_app.fallback.state_label.text() == "Plex is in step"
    assert "No system tray" in tray_app.fallback.explanation.text()


def test_at_login_the_app_waits_for_the_tray_then_falls_back(qtbot: QtBot, make_app, paths) -> None:  # type: ignore[no-untyped-def]
    save(paths)
    clock = Clock()
    available = [False]
    tray_app = make_app(
        tray_available=lambda: available[0], launched_at_login=True, monotonic=clock
    )
    assert tray_app.fallback is None  # waiting, for now
    clock.mono += 29
    tray_app.presence.on_wait_tick()
    assert tray_app.fallback is None
    clock.mono += 2
    tray_app.presence.on_wait_tick()
    assert tray_app.fallback is not None and tray_app.fallback.isVisible()
    available[0] = True  # the panel finally came up
    tray_app.presence.on_watch_tick()
    assert not tray_app.fallback.isVisible()


def test_at_login_a_late_tray_is_used(qtbot: QtBot, make_app, paths) -> None:  # type: ignore[no-untyped-def]
    save(paths)
    available = [False]
    tray_app = make_app(tray_available=lambda: available[0], launched_at_login=True)
    available[0] = True
    tray_app.presence.on_wait_tick()
    assert tray_app.fallback is None
    assert tray_app.tray.icon.isVisible()


def test_closing_the_fallback_window_quits(qtbot: QtBot, make_app, paths) -> None:  # type: ignore[no-untyped-def]
    save(paths)
    tray_app = make_app(tray_available=lambda: False)
    tray_app.fallback.close()
    assert getattr(tray_app, "quit_called", False)


def test_shutdown_stops_the_engine_then_closes_the_runtime(
    qtbot: QtBot,
    make_app,
    paths,
    factory,  # type: ignore[no-untyped-def]
) -> None:
    save(paths)
    tray_app = make_app()
    runtime = factory.runtime
    assert tray_app.shutdown()
    assert factory.engine.stop_requested.is_set()
    assert not tray_app.bridge.is_running()
    assert runtime is not None and runtime.closed
    assert FakeStatusWindow.instances == [] or "shutdown" in FakeStatusWindow.instances[0].calls


def test_a_bad_field_opens_the_settings_prefilled_with_it_marked(
    qtbot: QtBot, make_app, paths
) -> None:  # type: ignore[no-untyped-def]
    text = json.dumps(
        {"plex_url": "http://plex.example:32400", "plex_token": "tok-123456", "poll_interval": 0}
    )
    paths.config_file.write_text(text)
    tray_app = make_app()
    qtbot.waitUntil(lambda: tray_app.settings_dialog is not None, timeout=2000)
    dialog = tray_app.settings_dialog
    assert dialog.plex_url.text() == "http://plex.example:32400"  # the valid values are kept
    assert dialog.plex_token.text() == "tok-123456"
    assert tray_app.config.plex_url == "http://plex.example:32400"  # and the engine has them
    assert dialog.notice.isVisible() and "poll_interval" in dialog.notice.text()  # in the dialog
    sync_tab = list(TAB_TITLES).index("sync")
    assert dialog.tabs.currentIndex() == sync_tab and "⚠" in dialog.tabs.tabText(sync_tab)
    assert dialog.errors["poll_interval"].isVisible()
    assert "greater than or equal to 1" in dialog.errors["poll_interval"].text()
    assert paths.config_file.read_text() == text  # nothing moved or rewritten behind the user
    assert not list(paths.config_dir.glob("config.json.*.bak"))
    assert QApplication.topLevelWidgets().count(dialog) == 1
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]


def test_a_bad_field_is_reported_again_at_the_next_start(qtbot: QtBot, make_app, paths) -> None:  # type: ignore[no-untyped-def]
    paths.config_file.write_text('{"poll_interval": 0}')
    first = make_app()
    qtbot.waitUntil(lambda: first.settings_dialog is not None, timeout=2000)
    first.settings_dialog.reject()
    first.shutdown()
    second = make_app()
    qtbot.waitUntil(lambda: second.settings_dialog is not None, timeout=2000)
    assert "poll_interval" in second.settings_dialog.notice.text()


def test_command_line() -> None:
    args = parse_args(["--config-dir", "/tmp/x", "--autostart"])
    assert args.config_dir == Path("/tmp/x") and args.autostart and not args.demo
    assert parse_args(["--demo"]).demo


def test_status_window_class_is_found() -> None:
    cls = app_module.status_window_class()
    assert cls is None or cls.__name__ == "StatusWindow"


def test_the_real_engine_and_status_window_are_wired(
    qtbot: QtBot,
    make_app,
    paths,  # type: ignore[no-untyped-def]
) -> None:
    """No fakes: the engine runtime on its thread and gui.status_window.StatusWindow."""
    save(paths)
    tray_app = make_app(runtime_factory=app_module.open_engine_runtime, status_window_cls=True)
    if app_module.status_window_class() is None:
        pytest.skip("gui.status_window is not there yet")
    assert tray_app.bridge.is_running()
    assert tray_app.tray.state is TrayState.CLOSED
    tray_app.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    window = tray_app.status_window
    assert window is not None and window.isVisible()
    tray_app.tray.pause_actions[2].trigger()  # through the real engine's command queue
    qtbot.waitUntil(lambda: tray_app.tray.state is TrayState.PAUSED, timeout=5000)
    window.settings_requested.emit()
    assert tray_app.settings_dialog is not None
    window.close()


def test_a_stuck_engine_is_reported_on_every_shutdown_call(
    qtbot: QtBot,
    make_app,
    paths,
    factory,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    save(paths)
    tray_app = make_app()
    real_stop = tray_app.bridge.stop
    monkeypatch.setattr(tray_app.bridge, "stop", lambda timeout=2.0: False)
    assert not tray_app.shutdown()
    assert not tray_app.shutdown()  # main() must not let Python destroy a running QThread
    assert factory.runtime is not None and not factory.runtime.closed
    assert real_stop()
    tray_app._clean = True  # for the fixture's own shutdown check
