"""The icon never lies: Stash's trouble, a broken engine and a pending Plex check each show."""

from __future__ import annotations

import gc
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThread
from pytestqt.qtbot import QtBot
from tray_fakes import NOW, FakeAutostart, FakeEngine, make_status

from engine.breaker import CircuitState
from engine.events import ServiceHealth
from engine.paths import AppPaths
from gui.app import TrayApp
from gui.bridge import FAILING_TICKS, EngineBridge
from gui.icons import IconCache
from gui.mnemonics import plain
from gui.presentation import (
    TrayState,
    fix_sign_in_label,
    status_line,
    tooltip_text,
    tray_state,
)
from gui.tray import TrayController, TrayHandlers
from gui.widgets.state_header import HeaderState, describe, header_state

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (raise|propagateSizeHints)")

STASH_DOWN = make_status(
    stash_health=ServiceHealth.UNREACHABLE, stash_error="Stash is unreachable (refused)"
)
STASH_KEY = make_status(
    auth_error="Stash rejected the API key",
    auth_service="stash",
    stash_health=ServiceHealth.AUTH_FAILED,
)


# --- the one place: EngineStatus -> state and words ------------------------------------------


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (STASH_DOWN, TrayState.STASH_PROBLEM),
        (make_status(stash_health=ServiceHealth.ERROR), TrayState.STASH_PROBLEM),
        (STASH_KEY, TrayState.AUTH_FAILED),
        (make_status(plex_checking=True), TrayState.HALF_OPEN),
        (make_status(engine_error="Database locked."), TrayState.ENGINE_ERROR),
        (make_status(engine_error="x", breaker_state=CircuitState.OPEN), TrayState.ENGINE_ERROR),
        (make_status(engine_error="x", configured=False), TrayState.ENGINE_ERROR),
        (
            make_status(stash_health=ServiceHealth.UNREACHABLE, breaker_state=CircuitState.OPEN),
            TrayState.OPEN,
        ),
    ],
)
def test_one_state_for_plex_stash_and_the_engine(status: object, state: TrayState) -> None:
    assert tray_state(status) is state  # type: ignore[arg-type]


def test_stash_down_is_never_called_in_step() -> None:
    text = tooltip_text(STASH_DOWN, NOW)
    assert "Stash is unreachable" in text
    assert "in step" not in text


def test_both_services_down_names_both() -> None:
    both = make_status(
        breaker_state=CircuitState.OPEN,
        stash_health=ServiceHealth.UNREACHABLE,
        stash_error="Stash is unreachable (refused)",
    )
    text = tooltip_text(both, NOW)
    assert "Plex is unreachable" in text and "Stash is unreachable" in text


def test_a_rejected_stash_key_names_stash_everywhere() -> None:
    assert plain(fix_sign_in_label(STASH_KEY)) == "Fix the Stash sign-in…"
    assert status_line(STASH_KEY, NOW) == "Stash rejected the API key"
    assert "Check the Stash sign-in" in tooltip_text(STASH_KEY, NOW)
    assert "Plex" not in tooltip_text(STASH_KEY, NOW).split("\n", 1)[1]  # after the app's name


def test_a_reset_waiting_for_plex_says_checking_not_connected() -> None:
    checking = make_status(plex_checking=True, last_error="Plex is unreachable")
    assert status_line(checking, NOW) == "Checking Plex…"
    view = describe(checking, NOW)
    assert header_state(checking) is HeaderState.HALF_OPEN
    assert view.title == "Checking Plex…" and "Connected" not in view.title


def test_a_broken_engine_says_what_and_what_to_do() -> None:
    broken = make_status(engine_error="The sync engine fails on every try (OperationalError).")
    text = tooltip_text(broken, NOW)
    assert "fails on every try" in text
    assert "Quit and start PlexSync Tray again" in text
    assert header_state(broken) is HeaderState.ENGINE_ERROR


def test_the_status_window_header_shows_stash_apart() -> None:
    assert header_state(STASH_DOWN) is HeaderState.STASH_PROBLEM
    assert describe(STASH_DOWN, NOW).title.startswith("Stash is unreachable")


# --- the tray: icon, menu and log line ---------------------------------------------------------


@pytest.fixture
def tray(qtbot: QtBot) -> Iterator[TrayController]:
    bridge = EngineBridge()
    bridge.attach(FakeEngine(bridge.listener))
    noop = lambda *args: None  # noqa: E731
    handlers = TrayHandlers(None, noop, noop, noop, noop, noop)
    controller = TrayController(bridge, handlers, icons=IconCache(), autostart=FakeAutostart())
    yield controller
    controller.hide()


def menu_texts(tray: TrayController) -> list[str]:
    tray.menu.aboutToShow.emit()
    return [plain(a.text()) for a in tray.menu.actions() if a.isVisible() and not a.isSeparator()]


def test_menu_and_log_name_stash_for_a_rejected_stash_key(
    tray: TrayController, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        tray.apply_status(STASH_KEY, force=True)
    assert tray.state is TrayState.AUTH_FAILED
    assert "Fix the Stash sign-in…" in menu_texts(tray)
    assert "Fix the Plex sign-in…" not in menu_texts(tray)
    lines = [r.getMessage() for r in caplog.records if r.name == "gui.tray"]
    assert lines and all("Stash" in line and "Plex" not in line for line in lines)


def test_stash_down_has_its_own_icon_and_menu_line(tray: TrayController) -> None:
    tray.apply_status(STASH_DOWN, force=True)
    assert tray.state is TrayState.STASH_PROBLEM
    assert menu_texts(tray)[0] == "Stash is unreachable (refused)"
    plex_down = make_status(breaker_state=CircuitState.OPEN, stash_health=ServiceHealth.UNREACHABLE)
    tray.apply_status(plex_down, force=True)
    assert menu_texts(tray)[1] == "Stash is unreachable"


# --- the host: ticks that keep failing, a thread that ends, a database that will not open -------


def test_ticks_failing_again_and_again_show_an_engine_error(qtbot: QtBot) -> None:
    bridge = EngineBridge()
    engine = FakeEngine(bridge.listener, next_delay=0.01)
    bridge.attach(engine)
    failing = {"on": True}

    def tick(budget: float = 0.5) -> float:
        engine.ticks += 1
        if failing["on"]:
            raise sqlite3.OperationalError("unable to open database file")
        return 0.05

    engine.tick = tick  # type: ignore[method-assign]
    bridge.start()
    try:
        qtbot.waitUntil(
            lambda: bridge.status is not None and bridge.status.engine_error is not None,
            timeout=10_000,
        )
        assert engine.ticks >= FAILING_TICKS
        assert "unable to open database file" in (bridge.status.engine_error or "")
        assert tray_state(bridge.status) is TrayState.ENGINE_ERROR
        failing["on"] = False
        qtbot.waitUntil(lambda: bridge.status.engine_error is None, timeout=10_000)  # type: ignore[union-attr]
    finally:
        assert bridge.stop()


def test_an_engine_thread_that_ends_shows_an_engine_error(qtbot: QtBot) -> None:
    bridge = EngineBridge()
    engine = FakeEngine(bridge.listener)
    bridge.attach(engine)
    engine.script.append(lambda _listener: QThread.currentThread().exit(3))
    bridge.start()
    qtbot.waitUntil(lambda: bridge.host_error is not None, timeout=5000)
    assert tray_state(bridge.status) is TrayState.ENGINE_ERROR
    assert "ended unexpectedly" in (bridge.status.engine_error or "")  # type: ignore[union-attr]
    assert bridge.stop()


def test_an_engine_thread_that_ends_is_let_end_before_its_objects_go(qtbot: QtBot) -> None:
    """The bridge hears `finished` while the thread is still ending (slowed down here on
    purpose). Dropping the thread and worker then raced Qt's own deletion of the worker as
    the thread ended (a segfault, once in 9 loaded runs of the GUI tier): the bridge must let
    the thread end first."""
    bridge = EngineBridge()
    engine = FakeEngine(bridge.listener)
    bridge.attach(engine)
    connected = threading.Event()

    def end_thread(_listener: object) -> None:
        connected.wait(5)
        QThread.currentThread().exit(3)

    engine.script.append(end_thread)
    bridge.start()
    thread = bridge._thread
    assert thread is not None
    thread.finished.connect(lambda: time.sleep(0.5), Qt.ConnectionType.DirectConnection)
    connected.set()
    qtbot.waitUntil(lambda: bridge.host_error is not None, timeout=5000)
    # Ended for good (Qt 6's isFinished() is true already while `finished` is being sent).
    assert thread.wait(0)
    del thread
    gc.collect()
    assert bridge.stop()


def test_a_database_that_will_not_open_shows_an_engine_error_and_quits_fast(
    qtbot: QtBot, tmp_path: Path
) -> None:
    paths = AppPaths.in_dir(tmp_path / "dir").ensure()

    def broken_runtime(*_args: object) -> object:
        raise sqlite3.OperationalError("unable to open database file")

    tray_app = TrayApp(
        paths,
        runtime_factory=broken_runtime,  # type: ignore[arg-type]
        autostart=FakeAutostart(),
        tray_available=lambda: True,
        status_window_cls=None,
    )
    tray_app.start()
    try:
        assert tray_app.tray.state is TrayState.ENGINE_ERROR
        tooltip = tray_app.tray.tooltip
        assert "could not open its database" in tooltip
        assert "writable" in tooltip and "Quit and start PlexSync Tray again" in tooltip
    finally:
        started = time.monotonic()
        assert tray_app.shutdown()
        assert time.monotonic() - started < 2.0
        if tray_app.settings_dialog is not None:
            tray_app.settings_dialog.close()
