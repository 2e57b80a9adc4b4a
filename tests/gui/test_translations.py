"""A .qm for the locale is picked up without touching code; no .qm means English."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QMenu
from pytestqt.qtbot import QtBot
from test_tray_app import FakeStatusWindow, factory, make_app, opened_urls, paths, save
from tray_fakes import NOW, make_status

from engine.check_store import CheckKind, CheckSummary, Finding
from engine.events import CheckProgress, Progress, ServiceHealth
from engine.paths import AppPaths
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
