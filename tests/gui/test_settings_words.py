"""Settings that never mislead: ranges and units, no silent clamping, fresh test results,
right plurals, errors in a person's words, and where to find the token and the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from test_tray_settings_dialog import configured, make_dialog

from engine.errors import AuthError, UnreachableError
from gui.settings.help import PLEX_TOKEN_ARTICLE, user_words

pytestmark = pytest.mark.gui


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "config.json"


def test_a_number_shows_its_range_and_unit(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    poll = dialog.numbers["poll_interval"]
    assert poll.toolTip() == "1–3600 seconds"
    assert poll.unit_label.text() == "seconds (1–3600)"
    assert dialog.numbers["dlq_retention_days"].toolTip() == "1–365 days"


def test_an_out_of_range_number_is_kept_and_explained(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    dialog.show()
    poll = dialog.numbers["poll_interval"]
    poll.edit.selectAll()
    qtbot.keyClicks(poll.edit, "5000")
    assert poll.text() == "5000"  # never clamped to 3600 behind the user's back
    error = dialog.errors["poll_interval"]
    assert not error.isHidden()
    assert error.text() == "5000 is outside the allowed range: 1–3600 seconds."
    assert not dialog.ok_button.isEnabled()
    poll.edit.setText("abc")
    assert error.text().startswith("Enter a number from 1 to 3600.")
    poll.edit.setText("120")
    assert error.isHidden() and dialog.config is not None
    assert dialog.config.poll_interval == 120


def test_units_have_the_right_plural(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    successes = dialog.numbers["success_threshold"]
    successes.setValue(1)
    assert successes.unit_label.text().startswith("success (")
    successes.setValue(2)
    assert successes.unit_label.text().startswith("successes (")
    failures = dialog.numbers["failure_threshold"]
    failures.setValue(1)
    assert failures.unit_label.text().startswith("failure (")


def test_a_test_result_is_cleared_when_a_field_it_used_changes(
    qtbot: QtBot, config_file: Path
) -> None:
    dialog = make_dialog(
        qtbot, config_file, plex_tester=lambda c: ["Movies"], stash_tester=lambda c: "v0.27"
    )
    dialog.plex_test.click()
    dialog.stash_test.click()
    assert dialog.plex_result.text().startswith("✓")
    dialog.stash_url.setText("http://127.0.0.1:9998")  # Stash's field: Plex's result stands
    assert dialog.plex_result.text().startswith("✓")
    assert dialog.stash_result.text() == ""
    dialog.numbers["plex_read_timeout"].setValue(45)
    assert dialog.plex_result.text() == ""


def test_an_answer_for_old_settings_is_not_shown(qtbot: QtBot, config_file: Path) -> None:
    pending: list[Callable[[], None]] = []

    def later(work: Callable[[], Any], done: Callable[[Any, Any], None]) -> None:
        pending.append(lambda: done(work(), None))

    dialog = make_dialog(qtbot, config_file, plex_tester=lambda c: ["Movies"], runner=later)
    dialog.plex_test.click()
    dialog.plex_url.setText("http://127.0.0.1:32401")  # changed while the test runs
    pending.pop()()
    assert dialog.plex_result.text() == ""
    assert dialog.plex_test.isEnabled()


def test_connection_errors_hide_urls_and_encoded_requests(qtbot: QtBot, config_file: Path) -> None:
    def plex(config: object) -> list[str]:
        raise AuthError(
            "Plex rejected the token",
            "(401) unauthorized; http://127.0.0.1:32400/library/sections?X-Plex-Token=abc",
            service="plex",
        )

    def stash(config: object) -> str:
        raise UnreachableError(
            "Stash is unreachable",
            "POST http://127.0.0.1:9999/graphql query=%7B%20version%20%7D refused",
        )

    dialog = make_dialog(qtbot, config_file, plex_tester=plex, stash_tester=stash)
    dialog.plex_test.click()
    dialog.stash_test.click()
    assert dialog.plex_result.text() == "✗ Plex rejected the token. Check it and test again."
    stash_text = dialog.stash_result.text()
    assert "://" not in stash_text and "%7B" not in stash_text
    assert stash_text.startswith("✗ Stash is unreachable")


def test_model_errors_are_rewritten_in_plain_words() -> None:
    assert user_words({"type": "missing", "msg": "Field required"}) == "Required."
    assert user_words({"type": "int_parsing", "msg": "Input should be a valid integer"}) == (
        "Enter a number."
    )
    assert user_words({"type": "value_error", "msg": "Value error, Use http or https"}) == (
        "Use http or https"
    )


def test_each_tab_says_where_to_find_what_it_asks_for(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    plex = dialog.findChild(QLabel, "plex_help")
    stash = dialog.findChild(QLabel, "stash_help")
    assert plex is not None and stash is not None
    assert "View XML" in plex.text() and "X-Plex-Token" in plex.text()
    assert PLEX_TOKEN_ARTICLE in plex.text() and plex.openExternalLinks()
    assert "Settings → Security → API Key" in stash.text() and "href=" in stash.text()


def test_fields_have_mnemonics_and_accessible_names(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file)
    dialog.show()
    labels = [label.text() for label in dialog.findChildren(QLabel) if label.buddy() is not None]
    assert "Server &URL" in labels and "&Token" in labels
    assert dialog.plex_url.accessibleName() == "Server URL"
    assert dialog.plex_test.text() == "Te&st connection"
    assert dialog.numbers["poll_interval"].edit.accessibleName() or (
        dialog.numbers["poll_interval"].accessibleName() == "Check Stash every"
    )


def test_ctrl_w_closes_the_settings_without_saving(qtbot: QtBot, config_file: Path) -> None:
    dialog = make_dialog(qtbot, config_file, config=configured())
    dialog.show()
    with qtbot.waitActive(dialog):
        dialog.activateWindow()
    dialog.plex_url.setFocus()
    qtbot.keyClick(dialog.plex_url, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    assert not config_file.exists()
