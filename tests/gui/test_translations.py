"""A .qm for the locale is picked up without touching code; no .qm means English."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtWidgets import QApplication

from gui.translations import install_translator

pytestmark = pytest.mark.gui

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
