"""The status window keeps its layout still, fits its screen, and works from the keyboard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot
from status_fakes import Clock, FakeBridge, build_window, make_status, seed_dlq, show_and_wait

from engine.events import Progress
from engine.paths import AppPaths
from engine.store.jobs import JobStore
from gui.about_dialog import AboutDialog
from gui.log_viewer import LogViewer
from gui.open_places import PathDialog
from gui.status_window import DEFAULT_SIZE, StatusWindow

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bridge(store: JobStore) -> FakeBridge:
    return FakeBridge(store, make_status())


@pytest.fixture
def window(qtbot: QtBot, bridge: FakeBridge, database: Path, clock: Clock) -> StatusWindow:
    return build_window(qtbot, bridge, database, clock)


def test_the_tabs_do_not_jump_when_progress_or_a_message_appears(
    qtbot: QtBot, window: StatusWindow, bridge: FakeBridge
) -> None:
    show_and_wait(qtbot, window)
    before = window.tabs.geometry()
    bridge.progress_changed.emit(Progress(done=3, total=10, rate=1.0))
    window.dlq.message.emit("Sending 1 failed scene back to the queue…")
    QApplication.processEvents()
    assert window.progress.isVisible()
    assert window.statusBar().currentMessage()
    assert window.tabs.geometry() == before


def test_the_failed_scenes_table_fits_the_default_window(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock
) -> None:
    seed_dlq(store, clock, 3)
    window.resize(DEFAULT_SIZE)
    show_and_wait(qtbot, window)
    QApplication.processEvents()
    assert window.dlq.view.viewport().width() >= window.dlq.columns_width()
    assert window.dlq.view.horizontalScrollBar().maximum() == 0


def test_tab_leaves_the_table_instead_of_walking_its_cells(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock
) -> None:
    seed_dlq(store, clock, 3)
    show_and_wait(qtbot, window)
    window.activateWindow()
    view = window.dlq.view
    assert not view.tabKeyNavigation()
    assert not window.library_check.findChild(type(view)).tabKeyNavigation()
    view.setFocus()
    view.focusNextChild()  # what Tab does when the table does not take it
    assert not view.hasFocus()


@pytest.mark.parametrize("key", ["Escape", "Ctrl+W"])
def test_escape_and_ctrl_w_close_the_window(qtbot: QtBot, window: StatusWindow, key: str) -> None:
    show_and_wait(qtbot, window)
    with qtbot.waitActive(window):
        window.activateWindow()
    window.dlq.filter_edit.setFocus()
    sequence = {"Escape": (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)}.get(
        key, (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    )
    qtbot.keyClick(window.dlq.filter_edit, sequence[0], sequence[1])
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)


def test_the_window_title_names_the_app_once(window: StatusWindow) -> None:
    QApplication.setApplicationDisplayName("PlexSync Tray")  # the platform appends it
    try:
        # Qt appends the display name unless the title already ends with it.
        assert window.windowTitle() == "Status – PlexSync Tray"
        assert window.windowTitle().count("PlexSync") == 1
    finally:
        QApplication.setApplicationDisplayName("")


def test_buttons_have_mnemonics_and_accessible_names(window: StatusWindow) -> None:
    for button in window.dlq.buttons():
        assert "&" in button.text(), button.text()
        assert button.accessibleName()
    assert window.dlq.view.accessibleName() == "Failed scenes"
    assert window.dlq.filter_edit.accessibleName()


FIT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    sys.path.insert(0, sys.argv[2])
    from status_fakes import FakeBridge, make_status, Clock
    from engine.config.file import PlexSyncConfig
    from engine.store.jobs import JobStore
    from gui.settings.dialog import SettingsDialog
    from gui.status_window import StatusWindow
    tmp = Path(sys.argv[1])
    store = JobStore(tmp / "db.sqlite3", clock=Clock())
    window = StatusWindow(FakeBridge(store, make_status()), tmp / "db.sqlite3", clock=Clock())
    dialog = SettingsDialog(PlexSyncConfig(), config_file=tmp / "config.json")
    room = app.primaryScreen().availableGeometry()
    windows = (("status", window), ("settings", dialog))
    sizes = {name: [w.width(), w.height()] for name, w in windows}
    print(json.dumps({"room": [room.width(), room.height()], "sizes": sizes}))
    window.shutdown()
    store.close()
    """
)


def test_windows_fit_the_screen_at_200_percent(tmp_path: Path) -> None:
    screens = {"screens": [{"name": "hd", "width": 1920, "height": 1080, "logicalDpi": 96}]}
    config = tmp_path / "screens.json"
    config.write_text(json.dumps(screens))
    env = {
        **os.environ,
        "QT_SCALE_FACTOR": "2",
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", FIT_SCRIPT, str(tmp_path), str(Path(__file__).parent)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    room = QSize(*answer["room"])
    assert room == QSize(960, 540)  # 1920 x 1080 at 200 %
    for name, (width, height) in answer["sizes"].items():
        assert width <= room.width() and height <= room.height(), (name, width, height)


def _about(tmp_path: Path) -> QDialog:
    return AboutDialog(AppPaths.in_dir(tmp_path), lambda path, what: None)


def _log_viewer(tmp_path: Path) -> QDialog:
    return LogViewer(tmp_path / "plexsync.log", open_folder=lambda: None)


def _path_dialog(tmp_path: Path) -> QDialog:
    return PathDialog("Log folder", "No file manager could open the log folder.", str(tmp_path))


@pytest.mark.parametrize("make", [_about, _log_viewer, _path_dialog])
@pytest.mark.parametrize("key", ["Escape", "Ctrl+W"])
def test_escape_and_ctrl_w_close_the_dialogs(
    qtbot: QtBot, tmp_path: Path, make: Callable[[Path], QDialog], key: str
) -> None:
    dialog = make(tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitActive(dialog):
        dialog.activateWindow()
    modifier = Qt.KeyboardModifier.ControlModifier if key == "Ctrl+W" else Qt.KeyboardModifier(0)
    target = dialog.focusWidget() or dialog
    qtbot.keyClick(target, Qt.Key.Key_W if key == "Ctrl+W" else Qt.Key.Key_Escape, modifier)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
