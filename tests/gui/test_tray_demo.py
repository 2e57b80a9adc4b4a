"""`--demo`: simulators in-process, a throw-away dir, and the Demo submenu's outage switch."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from engine.config.file import load_config_report
from gui.app import TrayApp
from gui.demo import DemoController, DemoEnvironment
from gui.mnemonics import plain
from gui.presentation import TrayState


@pytest.fixture
def env() -> Iterator[DemoEnvironment]:
    environment = DemoEnvironment.start()
    yield environment
    environment.close()


def test_demo_uses_a_throw_away_dir_and_a_working_config(env: DemoEnvironment) -> None:
    assert env.directory.is_relative_to(Path(tempfile.gettempdir()))
    assert env.paths.config_dir == env.directory.resolve()
    loaded = load_config_report(env.paths.config_file)
    assert loaded.existed and loaded.problem is None
    config = loaded.config
    assert config.is_configured
    assert config.plex_url == env.plex.url and config.stash_url == env.stash.url
    assert config.failure_threshold == 2 and config.recovery_timeout == 5
    assert config.poll_interval == 2
    assert [(m.stash_prefix, m.plex_prefix) for m in config.path_mappings] == [("/data", "/media")]
    assert all(env.secrets())


def test_outage_stops_plex_and_brings_it_back(qtbot: QtBot, env: DemoEnvironment) -> None:
    controller = DemoController(env, outage_ms=50)
    with qtbot.waitSignal(controller.outage_changed) as down:
        controller.toggle_outage()
    assert down.args == [True]
    assert controller.plex_down
    assert plain(controller.outage_label()) == "End Plex outage now"
    with qtbot.waitSignal(controller.outage_changed, timeout=3000) as back:
        pass  # comes back by itself
    assert back.args == [False]
    assert not controller.plex_down
    assert env.plex.faults()  # the first health check is held, so half-open shows as amber


def test_ending_the_outage_early(env: DemoEnvironment) -> None:
    controller = DemoController(env)
    controller.toggle_outage()
    controller.toggle_outage()
    assert not controller.plex_down


def test_close_removes_the_directory() -> None:
    environment = DemoEnvironment.start()
    directory = environment.directory
    environment.close()
    assert not directory.exists()
    assert not environment.plex.running


@pytest.mark.qt_log_ignore(r"This plugin does not support (raise|propagateSizeHints)")
def test_demo_shows_green_red_amber_green(
    qtbot: QtBot, env: DemoEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `make demo` promises a newcomer, driven through the Demo submenu."""
    monkeypatch.setattr(TrayApp, "quit", lambda self: None)
    tray_app = TrayApp(env.paths, demo=env, tray_available=lambda: True, status_window_cls=None)
    try:
        tray_app.start()
        tray = tray_app.tray
        qtbot.waitUntil(
            lambda: (
                tray_app.bridge.status is not None
                and tray_app.bridge.status.last_sync_at is not None
                and tray.state is TrayState.CLOSED
            ),
            timeout=20_000,
        )
        demo_menu = next(a.menu() for a in tray.menu.actions() if plain(a.text()) == "Demo")
        outage, churn, *_more = demo_menu.actions()
        assert plain(churn.text()) == "Change scenes in Stash"
        outage.trigger()
        assert plain(outage.text()) == "End Plex outage now"
        qtbot.waitUntil(lambda: tray.state is TrayState.OPEN, timeout=20_000)
        outage.trigger()  # the same entry ends the outage early
        assert plain(outage.text()) == "Simulate Plex outage"
        qtbot.waitUntil(lambda: tray.state is TrayState.HALF_OPEN, timeout=20_000)
        qtbot.waitUntil(lambda: tray.state is TrayState.CLOSED, timeout=20_000)
    finally:
        assert tray_app.shutdown()
