"""The tray's extra entries: Open Plex/Stash/config folder, the log folder without a file
manager, the log viewer, About; and the demo's greeting, DLQ and tag-rename entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from test_tray_app import FakeStatusWindow, factory, make_app, opened_urls, paths, save

from engine import __version__
from engine.paths import AppPaths
from engine.runtime.logs import TRAY_LOG_FILE
from gui.about_dialog import AboutDialog
from gui.app import TrayApp
from gui.demo import RENAMED, DemoEnvironment
from gui.log_viewer import TAIL_BYTES, LogViewer, read_tail
from gui.mnemonics import plain
from gui.notifications import NoticeKind
from gui.open_places import Opener, PathDialog
from gui.presentation import TrayState

_ = (FakeStatusWindow, factory, make_app, opened_urls, paths)  # fixtures used by name

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(r"This plugin does not support (raise|propagateSizeHints)"),
]


def action(tray_app: TrayApp, text: str):  # type: ignore[no-untyped-def]
    return next(a for a in tray_app.tray.menu.actions() if plain(a.text()) == text)


def test_open_plex_stash_and_config_folder_from_the_menu(
    qtbot: QtBot,
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
    opened_urls: list[QUrl],
) -> None:
    config = save(paths, stash_url="http://127.0.0.1:9999")
    tray_app = make_app()
    action(tray_app, "Open Plex").trigger()
    action(tray_app, "Open Stash").trigger()
    action(tray_app, "Open config folder").trigger()
    assert [u.toString() for u in opened_urls] == [
        f"{config.plex_url}/web/index.html",
        "http://127.0.0.1:9999",
        QUrl.fromLocalFile(str(paths.config_dir)).toString(),
    ]
    token = config.plex_token.get_secret_value()
    assert all(token not in u.toString() for u in opened_urls)


def test_log_folder_without_a_file_manager_shows_the_path_with_copy(
    qtbot: QtBot,
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
) -> None:
    save(paths)
    tray_app = make_app(open_url=lambda url: False)  # QDesktopServices found no file manager
    tray_app.tray.log_action.trigger()
    dialog = tray_app.opener.last_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.field.text() == str(paths.log_dir)
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == str(paths.log_dir)
    dialog.close()


def test_opener_says_when_a_web_app_has_no_address(qtbot: QtBot) -> None:
    from engine.config.file import PlexSyncConfig

    shown: list[PathDialog] = []
    opened: list[QUrl] = []
    opener = Opener(lambda: PlexSyncConfig(), opened.append, show_dialog=shown.append)
    assert not opener.plex()  # no Plex URL yet: a dialog says so, nothing opens
    assert opened == [] and len(shown) == 1 and "Settings" in shown[0].explanation.text()


def test_about_names_version_licence_and_opens_each_folder(qtbot: QtBot, tmp_path: Path) -> None:
    paths = AppPaths.in_dir(tmp_path)
    opened: list[tuple[Path, str]] = []
    dialog = AboutDialog(paths, lambda p, w: opened.append((p, w)))
    qtbot.addWidget(dialog)
    from PySide6.QtWidgets import QLabel

    text = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert __version__ in text and "MIT" in text
    assert str(paths.config_dir) in text and str(paths.log_dir) in text
    for button in dialog.open_buttons.values():
        button.click()
    assert opened == [
        (paths.config_dir, "Config"),
        (paths.data_dir, "Data"),
        (paths.log_dir, "Logs"),
    ]


def test_about_and_log_viewer_from_the_menu(
    qtbot: QtBot,
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
) -> None:
    save(paths)
    tray_app = make_app()
    action(tray_app, "About…").trigger()
    assert tray_app.extras.about is not None and tray_app.extras.about.isVisible()
    log = paths.log_dir / TRAY_LOG_FILE
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("first line\n", encoding="utf-8")
    action(tray_app, "View log…").trigger()
    viewer = tray_app.extras.log_viewer
    assert viewer is not None and "first line" in viewer.text.toPlainText()
    with log.open("a", encoding="utf-8") as handle:
        handle.write("second line\n")
    viewer.refresh_button.click()
    assert viewer.text.toPlainText().endswith("second line\n")
    tray_app.extras.close()


def test_log_viewer_reads_only_the_tail_from_a_whole_line(qtbot: QtBot, tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    line = "x" * 99 + "\n"
    log.write_text(line * 5000 + "the end\n", encoding="utf-8")  # ~500 KB
    text = read_tail(log)
    assert len(text.encode()) <= TAIL_BYTES and text.endswith("the end\n")
    assert text.startswith("x" * 99)  # no half line at the top
    viewer = LogViewer(tmp_path / "missing.log", lambda: None)
    qtbot.addWidget(viewer)
    assert "No log yet" in viewer.where.text()


@pytest.fixture
def env() -> Iterator[DemoEnvironment]:
    environment = DemoEnvironment.start()
    yield environment
    environment.close()


def test_demo_greets_and_its_menu_sends_to_the_dlq_and_renames_a_tag(
    qtbot: QtBot, env: DemoEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TrayApp, "quit", lambda self: None)
    tray_app = TrayApp(env.paths, demo=env, tray_available=lambda: True, status_window_cls=None)
    try:
        tray_app.start()
        tray = tray_app.tray
        qtbot.waitUntil(
            lambda: tray._last_notice is not None and tray._last_notice.kind is NoticeKind.DEMO,
            timeout=5000,
        )
        assert "Demo menu" in tray._last_notice.message  # type: ignore[union-attr]
        qtbot.waitUntil(
            lambda: (
                tray_app.bridge.status is not None
                and tray_app.bridge.status.last_sync_at is not None
                and tray.state is TrayState.CLOSED
            ),
            timeout=20_000,
        )
        demo = next(a.menu() for a in tray.menu.actions() if plain(a.text()) == "Demo")
        entries = {plain(a.text()): a for a in demo.actions()}
        entries["Send a scene to the dead-letter queue"].trigger()
        qtbot.waitUntil(lambda: tray_app.bridge.status.dlq == 1, timeout=20_000)  # type: ignore[union-attr]
        entries["Rename a tag in Stash"].trigger()

        library = env.plex.library

        def renamed_in_plex() -> bool:
            with library.lock:
                movies = [library.get(key) for key in list(library.keys())]
            return any(
                any(name.endswith(RENAMED) for name in movie.tags.get("genre", []))
                for movie in movies
                if movie is not None
            )

        qtbot.waitUntil(renamed_in_plex, timeout=20_000)
    finally:
        assert tray_app.shutdown()
