"""A .qm for the locale is picked up without touching code; no .qm means English."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, Qt, QTranslator
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QStatusBar,
    QTableView,
    QTabWidget,
    QTreeView,
    QWidget,
)
from pytestqt.qtbot import QtBot
from status_fakes import Clock, FakeBridge, build_window, seed_dlq, seed_history, show_and_wait
from test_tray_app import FakeStatusWindow, factory, make_app, opened_urls, paths, save
from test_tray_settings_dialog import make_dialog
from tray_fakes import NOW, FakeAutostart, make_status

from engine.errors import UnreachableError
from engine.events import CheckProgress, Progress, ServiceHealth
from engine.paths import AppPaths
from engine.store.activity import ActivityKind
from engine.store.checks import CheckKind, CheckSummary, Finding
from engine.store.jobs import JobStore
from gui.fallback_window import FallbackWindow
from gui.icons import IconCache
from gui.log_viewer import LogViewer
from gui.mnemonics import plain
from gui.presentation import APP_TITLE
from gui.translations import install_translator, translate_n
from gui.widgets.library_check_panel import CheckResult, LibraryCheckPanel

_ = (FakeStatusWindow, factory, make_app, opened_urls, paths)  # fixtures used by name

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(r"This plugin does not support (raise|propagateSizeHints)"),
]

TS = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context><name>DlqPanel</name>
<message><source>Retry &amp;all</source>
<translation>&amp;Alle erneut versuchen</translation></message>
</context>
</TS>
"""


def test_no_translation_ships_yet_and_english_stays(qtbot: object) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    assert install_translator(app, locale=QLocale("de_DE")) is None
    assert QCoreApplication.translate("DlqPanel", "Retry &all") == "Retry &all"


def test_a_qm_in_the_folder_translates_the_panel(qtbot: object, tmp_path: Path) -> None:
    lrelease = shutil.which("pyside6-lrelease") or str(
        Path(__import__("sys").executable).with_name("pyside6-lrelease")
    )
    if not Path(lrelease).exists():
        pytest.skip("pyside6-lrelease is not installed")
    source = tmp_path / "plexsync_de.ts"
    source.write_text(TS, encoding="utf-8")
    subprocess.run([lrelease, str(source), "-qm", str(tmp_path / "plexsync_de.qm")], check=True)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    translator = install_translator(app, locale=QLocale("de_DE"), folder=tmp_path)
    assert translator is not None
    try:
        from gui.widgets.dlq_panel import DlqPanel

        panel = DlqPanel()
        assert panel.retry_all_button.text() == "&Alle erneut versuchen"
        panel.deleteLater()
    finally:
        app.removeTranslator(translator)


class MarkerTranslator(QTranslator):
    """Translates every source text to ⟦text⟧, so any text shown without a marker bypassed
    Qt's translation functions."""

    def translate(  # type: ignore[override]
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str:
        return f"⟦{source}⟧"

    def isEmpty(self) -> bool:
        return False


@pytest.fixture
def marker(qtbot: object) -> Iterator[None]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    translator = MarkerTranslator(app)
    app.installTranslator(translator)
    yield
    app.removeTranslator(translator)


def untranslated(texts: Iterable[str]) -> list[str]:
    """The texts (lines) that are neither translated nor the app's name."""
    lines = [line for text in texts for line in plain(text).splitlines() if line]
    return [line for line in lines if not line.startswith("⟦") and line != APP_TITLE]


def menu_texts(menu: QMenu, data: set[int]) -> list[str]:
    texts = [menu.title()] if menu.title() else []
    for action in menu.actions():
        if action.isSeparator() or id(action) in data:
            continue
        texts += [action.text(), action.toolTip()] if action.toolTip() else [action.text()]
        if action.menu() is not None:
            texts += menu_texts(action.menu(), data)
    return texts


@pytest.mark.usefixtures("marker")
def test_the_tray_menu_and_tooltip_show_only_translated_text(
    make_app,  # type: ignore[no-untyped-def]
    paths: AppPaths,
) -> None:
    save(paths)
    tray = make_app().tray
    status = make_status(
        dlq=1,
        pending=2,
        progress=Progress(done=3, total=40, rate=1.0),
        last_sync_at=NOW - 60,
        last_checked_at=NOW - 5,
        stash_health=ServiceHealth.UNREACHABLE,
    )
    tray.apply_status(status, force=True)
    tray.menu.aboutToShow.emit()
    shown = [action for action in tray.menu.actions() if action.isVisible()]
    assert len(shown) > 15
    for action in tray.menu.actions():
        action.setVisible(True)
    tray.autostart_action.setToolTip("")  # the fake autostart's own words, not the app's
    assert untranslated(menu_texts(tray.menu, set())) == []
    assert untranslated([tray.tooltip]) == []
    assert "⟦%n failed scenes⟧" not in tray.tooltip  # the count is filled in
    tray.apply_status(make_status(breaker_state="open", retry_at=NOW + 90, paused=False))
    tray.refresh_text()
    assert untranslated([tray.tooltip, tray.status_action.text()]) == []


@pytest.mark.usefixtures("marker")
def test_the_library_check_panel_shows_only_translated_text(qtbot: QtBot) -> None:
    panel = LibraryCheckPanel()
    qtbot.addWidget(panel)
    finding = Finding("7", CheckKind.DRIFTED, "A title", {}, fields=("title",), kept=("studio",))
    summary = CheckSummary(1, NOW - 10, NOW, 1234, {CheckKind.DRIFTED.value: 1})
    panel.set_result(CheckResult(summary, [finding]))
    panel.set_progress(CheckProgress("plex", 5, 10, NOW))
    labels = [label.text() for label in panel.findChildren(QLabel) if label.text()]
    buttons = [button.text() for button in panel.findChildren(QAbstractButton)]
    headers = [panel.table.horizontalHeaderItem(i).text() for i in range(panel.table.columnCount())]
    kind = panel.table.item(0, 2).text()
    assert untranslated([*labels, *buttons, *headers, kind]) == []
    assert panel.table.item(0, 3).text() == "title, ⟦kept in Plex: studio⟧"  # field names: data
    assert "1,234" in panel.summary_label.text() or "1234" in panel.summary_label.text()


def test_counts_use_the_english_plural_until_a_translation_gives_its_forms(marker: None) -> None:
    assert translate_n("T", "1 thing", "%n things", 1) == "⟦1 things⟧"  # the translation decides


def test_counts_in_english_say_one_thing_and_group_thousands() -> None:
    assert translate_n("T", "1 thing", "%n things", 1) == "1 thing"
    assert translate_n("T", "1 thing", "%n things", 1234) == "1,234 things"
    assert translate_n("T", "1 thing", "%n things", 0) == "0 things"


# --- windows: every text, tooltip and accessible name a person can meet ----------------------

NUMBERS = re.compile(r"^[\d\s,.:/%+\-–·()×✓✗⚠•…]*$")  # counts, times, marks: data, not words
MARKED = re.compile(r"⟦[^⟦⟧]*⟧")


def widget_texts(root: QWidget) -> list[str]:
    """Every text a person (or a screen reader) meets in `root` and its children, cell data
    aside: labels, buttons, tabs, titles, headers, placeholders, tooltips, accessible names."""
    texts = [root.windowTitle()]
    for widget in [root, *root.findChildren(QWidget)]:
        texts += [widget.toolTip(), widget.accessibleName(), widget.accessibleDescription()]
        texts += [action.text() for action in widget.actions() if not action.isSeparator()]
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QGroupBox):
            texts.append(widget.title())
        if isinstance(widget, QLineEdit | QPlainTextEdit):
            texts.append(widget.placeholderText())
        if isinstance(widget, QTabWidget):
            for i in range(widget.count()):
                texts += [widget.tabText(i), widget.tabToolTip(i)]
        if isinstance(widget, QTableView | QTreeView) and widget.model() is not None:
            model = widget.model()
            horizontal = Qt.Orientation.Horizontal
            for column in range(model.columnCount()):
                texts.append(str(model.headerData(column, horizontal) or ""))
                texts.append(str(model.headerData(column, horizontal, TOOLTIP) or ""))
        if isinstance(widget, QProgressBar) and widget.isVisible():
            texts.append(widget.text())
        if isinstance(widget, QStatusBar):
            texts.append(widget.currentMessage())
    return [re.sub(r"<[^>]+>", "", text) for text in texts if text]


def unmarked_words(line: str, data: Iterable[str]) -> str:
    """What is left of `line` once the translated parts, the data and the app's name are out."""
    while MARKED.search(line):
        line = MARKED.sub("", line)  # innermost first: a translation may hold another
    for value in sorted({*data, APP_TITLE}, key=len, reverse=True):
        line = line.replace(value, "")
    return "" if NUMBERS.match(line) else line


def untranslated_in(root: QWidget, data: Iterable[str] = ()) -> list[str]:
    """The lines `root` shows with words that bypassed translation (numbers and data aside)."""
    lines = [line for text in widget_texts(root) for line in plain(text).splitlines()]
    return sorted({line for line in lines if unmarked_words(line, data)})


TOOLTIP = Qt.ItemDataRole.ToolTipRole


@pytest.mark.usefixtures("marker")
def test_every_tab_of_the_status_window_shows_only_translated_text(
    qtbot: QtBot, database: Path
) -> None:
    clock = Clock(NOW)
    store = JobStore(database, clock=clock)
    try:
        seed_dlq(store, clock, 3)
        seed_history(store, clock)
        store.record_activity(ActivityKind.FAILED, scene_id="77", title="Broken", summary="boom")
        bridge = FakeBridge(store, make_status())
        window = build_window(qtbot, bridge, database, clock)
        show_and_wait(qtbot, window)
        bridge.emit_store_status(
            breaker_state="open",
            retry_at=clock.t + 90,
            last_sync_at=clock.t - 60,
            last_checked_at=clock.t - 5,
            progress=Progress(done=3, total=40, rate=1.5),
        )
        bridge.auth_failed.emit("plex", "Plex rejected the token")
        window.library_check.set_result(
            CheckResult(
                CheckSummary(1, clock.t - 10, clock.t, 1234, {CheckKind.DRIFTED.value: 1}),
                [Finding("7", CheckKind.DRIFTED, "A title", {}, fields=("title",))],
            )
        )
        window.show_activity()
        qtbot.waitUntil(lambda: window.activity.model.rowCount() > 0, timeout=5000)
        window.dlq.view.selectRow(0)
        engine_words = {"Plex rejected the token"}  # the engine's message: it never translates
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            missing = untranslated_in(window, engine_words)
            assert missing == [], f"{window.tabs.tabText(index)}: {missing}"
    finally:
        store.close()


@pytest.mark.usefixtures("marker")
def test_every_tab_of_the_settings_shows_only_translated_text_after_a_failed_test(
    qtbot: QtBot, tmp_path: Path
) -> None:
    def refused(config: object) -> list[str]:
        raise UnreachableError("Plex is unreachable", "the connection was refused")

    def crashed(config: object) -> str:
        raise RuntimeError("boom")

    dialog = make_dialog(
        qtbot,
        tmp_path / "config.json",
        plex_tester=refused,
        stash_tester=crashed,
        autostart=FakeAutostart(enabled=True, problem="The login entry points to /gone."),
    )
    dialog.show()
    dialog.plex_test.click()
    dialog.stash_test.click()
    dialog.numbers["poll_interval"].setValue(0)  # an inline error, and the banner
    fake_autostart_words = {"a fake login entry", "The login entry points to /gone."}
    data = {"Movies", "/data", "/media", *fake_autostart_words}
    for index in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(index)
        missing = untranslated_in(dialog, data)
        assert missing == [], f"{dialog.tabs.tabText(index)}: {missing}"
    assert "⟦" in dialog.plex_result.text()  # the failed test's words are translated too


@pytest.mark.usefixtures("marker")
def test_the_log_viewer_shows_only_translated_text(qtbot: QtBot, tmp_path: Path) -> None:
    log_file = tmp_path / "plexsync.log"
    viewer = LogViewer(log_file, open_folder=lambda: None)
    qtbot.addWidget(viewer)
    assert (missing := untranslated_in(viewer)) == [], missing  # no log yet
    log_file.write_text("2026-09-21 10:00:00 INFO started\n", encoding="utf-8")
    viewer.refresh()
    assert (missing := untranslated_in(viewer)) == [], missing
    assert str(log_file) in viewer.where.text()  # the path is data, filled in


@pytest.mark.usefixtures("marker")
def test_the_window_shown_without_a_tray_shows_only_translated_text(qtbot: QtBot) -> None:
    window = FallbackWindow(IconCache(), open_status=lambda: None, open_settings=lambda: None)
    qtbot.addWidget(window)
    window.set_status(make_status(dlq=2, pending=3, last_sync_at=NOW - 60))
    assert (missing := untranslated_in(window)) == [], missing
