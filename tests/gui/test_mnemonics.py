"""Every command in the tray menu and every button in the windows has a mnemonic, and no two
entries of one menu level (or buttons shown together in one window) share one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QMenu, QTabWidget, QWidget
from pytestqt.qtbot import QtBot
from status_fakes import Clock, FakeBridge, build_window, make_status
from test_tray_app import FakeStatusWindow, factory, make_app, opened_urls, paths, save
from test_tray_settings_dialog import configured

from engine.paths import AppPaths
from engine.store.jobs import JobStore
from gui.about_dialog import AboutDialog
from gui.app import TrayApp
from gui.background import run_inline
from gui.demo import DemoController
from gui.log_viewer import LogViewer
from gui.mnemonics import literal, mnemonic, plain
from gui.open_places import PathDialog
from gui.settings.dialog import SettingsDialog
from gui.tray import TrayController

_ = (FakeStatusWindow, factory, make_app, opened_urls, paths)  # fixtures used by name

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(r"This plugin does not support (raise|propagateSizeHints)"),
]


def test_the_helpers_strip_find_and_escape() -> None:
    assert plain("S&ync now") == "Sync now"
    assert plain("Tom && Jerry") == "Tom & Jerry"
    assert mnemonic("Tom && &Jerry") == "j"
    assert mnemonic("Tom && Jerry") is None
    assert plain(literal("Tom & Jerry")) == "Tom & Jerry"
    assert mnemonic(literal("Tom & Jerry")) is None


def menu_problems(menu: QMenu, where: str, data: set[int]) -> list[str]:
    """Commands without a mnemonic and mnemonics used twice, in `menu` and its submenus.
    Disabled state lines and entries in `data` (text from data) are not commands."""
    problems: list[str] = []
    keys: list[str] = []
    for action in menu.actions():
        if action.isSeparator() or id(action) in data:
            continue
        label = action.text()
        key = mnemonic(label)
        if key is None and (action.isEnabled() or action.menu() is not None):
            problems.append(f"{where}: {plain(label)!r} has no mnemonic")
        elif key is not None:
            keys.append(key)
        if action.menu() is not None:
            problems += menu_problems(action.menu(), f"{where} > {plain(label)}", data)
    problems += [f"{where}: {k!r} is used {n} times" for k, n in Counter(keys).items() if n > 1]
    return problems


def all_states(tray: TrayController) -> None:
    """Turn on every entry that only some states show, so all of them are checked together."""
    for action in tray.menu.actions():
        action.setVisible(True)
        action.setEnabled(True)


def test_every_tray_menu_command_has_its_own_mnemonic(
    qtbot: QtBot,
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
) -> None:
    save(paths)
    tray_app: TrayApp = make_app()
    tray = tray_app.tray
    env = SimpleNamespace(plex=SimpleNamespace(running=True))
    tray.add_submenu("&Demo", DemoController(env, tray_app).menu_entries())  # type: ignore[arg-type]
    tray.menu.aboutToShow.emit()
    recent = tray_app.extras.recent
    recent.menu.aboutToShow.emit()
    all_states(tray)
    data = {id(a) for a in (tray.status_action, tray.problem_action, *recent.entry_actions)}
    assert menu_problems(tray.menu, "tray", data) == []


def test_a_scene_title_with_an_ampersand_is_shown_as_it_is(
    qtbot: QtBot,
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
) -> None:
    save(paths)
    tray_app: TrayApp = make_app()
    tray = tray_app.tray
    tray_app.bridge.set_host_error("Stash & Plex: the disk is full")
    tray.menu.aboutToShow.emit()
    assert plain(tray.status_action.text()) == "The sync engine has stopped working"
    assert plain(tray.problem_action.text()) == "Stash & Plex: the disk is full"


def button_problems(window: QWidget) -> list[str]:
    """Buttons without a mnemonic, and mnemonics shared by controls shown together; every page
    of every tab widget is looked at in turn."""
    tabs = window.findChildren(QTabWidget)
    pages = [(t, i) for t in tabs for i in range(t.count())] or [(None, 0)]
    problems: list[str] = []
    for tab, index in pages:
        if tab is not None:
            tab.setCurrentIndex(index)
        keys: list[tuple[str, str]] = []
        for button in window.findChildren(QAbstractButton):
            if not button.isVisibleTo(window) or not button.text():
                continue
            key = mnemonic(button.text())
            if key is None and not isinstance(button, QCheckBox):
                problems.append(f"{button.text()!r} has no mnemonic")
            elif key is not None:
                keys.append((key, plain(button.text())))
        for bar in tabs:
            keys += [(mnemonic(bar.tabText(i)) or "", bar.tabText(i)) for i in range(bar.count())]
        counts = Counter(k for k, _ in keys if k)
        problems += [
            f"{k!r} is used by {[t for key, t in keys if key == k]}"
            for k, n in counts.items()
            if n > 1
        ]
    return sorted(set(problems))


@pytest.fixture
def clock() -> Clock:
    return Clock(1_790_000_000.0)


def test_status_window_buttons_have_their_own_mnemonics(
    qtbot: QtBot, store: JobStore, database: Path, clock: Clock
) -> None:
    bridge = FakeBridge(store, make_status(breaker_state="open", retry_at=1e10, dlq=2))
    window = build_window(qtbot, bridge, database, clock)
    window.show()
    problems = button_problems(window)
    assert not problems, "\n".join(problems)


def test_dialog_buttons_have_their_own_mnemonics(qtbot: QtBot, tmp_path: Path) -> None:
    settings = SettingsDialog(configured(), config_file=tmp_path / "c.json", runner=run_inline)
    about = AboutDialog(AppPaths.in_dir(tmp_path), lambda *_: None)
    viewer = LogViewer(tmp_path / "tray.log", lambda: None)
    path = PathDialog("Log folder", "No file manager could open it.", str(tmp_path))
    for dialog in (settings, about, viewer, path):
        qtbot.addWidget(dialog)
        dialog.show()
    problems = {type(d).__name__: button_problems(d) for d in (settings, about, viewer, path)}
    assert problems == {name: [] for name in problems}
