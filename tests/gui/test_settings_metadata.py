"""The settings dialog's Metadata tab (issue 24): each control shows the config and saves back."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from test_tray_settings_dialog import configured, make_dialog

from engine.config.file import load_config_report
from gui.mnemonics import mnemonic

pytestmark = pytest.mark.gui


def test_the_tab_shows_what_the_config_says(qtbot: QtBot, tmp_path: Path) -> None:
    config = configured().with_changes(
        sync_director=False,
        code_field="editionTitle",
        content_rating="XXX",
        sync_added_at=True,
        sync_sort_title=True,
        sync_rating=False,
        tags_as="both",
        tag_exclude=["Secret", "Draft"],
        sync_only_organized=True,
    )
    dialog = make_dialog(qtbot, tmp_path / "config.json", config)
    assert not dialog.checks["sync_director"].isChecked()
    assert dialog.checks["sync_added_at"].isChecked()
    assert dialog.checks["sync_sort_title"].isChecked()
    assert not dialog.checks["sync_rating"].isChecked()
    assert dialog.checks["sync_only_organized"].isChecked()
    assert not dialog.checks["sync_only_identified"].isChecked()
    assert dialog.metadata.code_field.currentData() == "editionTitle"
    assert dialog.metadata.tags_as.currentData() == "both"
    assert dialog.metadata.content_rating.text() == "XXX"
    assert dialog.metadata.tag_exclude.text() == "Secret, Draft"
    assert dialog.tabs.tabText(3) == "Metadata"


def test_each_control_is_saved_to_the_file(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    dialog = make_dialog(qtbot, path)
    dialog.checks["sync_director"].setChecked(False)
    dialog.checks["sync_added_at"].setChecked(True)
    dialog.checks["sync_sort_title"].setChecked(True)
    dialog.checks["sync_rating"].setChecked(False)
    dialog.checks["sync_only_identified"].setChecked(True)
    metadata = dialog.metadata
    metadata.code_field.setCurrentIndex(metadata.code_field.findData("originalTitle"))
    metadata.tags_as.setCurrentIndex(metadata.tags_as.findData("labels"))
    metadata.content_rating.setText("  R  ")
    metadata.tag_exclude.setText("one, two , ,ONE")
    metadata.tag_collections.setText("Series A")
    metadata.poster_shape.setCurrentIndex(metadata.poster_shape.findData("portrait"))
    parents = metadata.parent_studio_collection
    parents.setCurrentIndex(parents.findData("parent_child"))
    dialog.checks["parent_studio_as_studio"].setChecked(True)
    dialog.checks["sync_groups"].setChecked(False)
    metadata.group_collection_prefix.setText("Group: ")
    dialog.checks["sync_art"].setChecked(True)
    dialog.apply_button.click()
    saved = load_config_report(path).config
    assert not saved.sync_director and saved.sync_added_at and saved.sync_sort_title
    assert not saved.sync_rating and saved.sync_only_identified and not saved.sync_only_organized
    assert (saved.code_field, saved.tags_as, saved.content_rating) == (
        "originalTitle",
        "labels",
        "R",
    )
    assert saved.tag_exclude == ["one", "two"]  # trimmed, duplicates in any case merged
    assert saved.tag_collections == ["Series A"]
    assert saved.poster_shape == "portrait" and saved.sync_art
    assert saved.parent_studio_collection == "parent_child" and saved.parent_studio_as_studio
    assert not saved.sync_groups and saved.group_collection_prefix == "Group: "


def test_a_content_rating_too_long_is_shown_and_blocks_ok(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, tmp_path / "config.json")
    dialog.show()
    dialog.metadata.content_rating.setText("X" * 41)
    assert not dialog.errors["content_rating"].isHidden()
    assert not dialog.ok_button.isEnabled()
    assert dialog.tabs.tabText(3) == "Metadata ⚠"
    dialog.metadata.content_rating.setText("XXX")
    assert dialog.ok_button.isEnabled()


def test_the_new_labels_have_their_own_mnemonics(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QCheckBox, QLabel

    dialog = make_dialog(qtbot, tmp_path / "config.json")
    page = dialog.tabs.widget(3)
    texts = [w.text() for w in page.findChildren(QCheckBox)]
    texts += [w.text() for w in page.findChildren(QLabel) if "&" in w.text()]
    letters = [mnemonic(text) for text in texts]
    assert None not in letters and len(letters) == len(set(letters)) == 19
    buttons = {mnemonic(b.text()) for b in dialog.buttons.buttons()}
    assert not buttons & set(letters)
