"""`--demo`: simulators in-process, a throw-away dir, and the Demo submenu's outage switch."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from engine.config import load_config_report
from gui.demo import DemoController, DemoEnvironment


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
    assert controller.outage_label() == "End Plex outage now"
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
