"""The settings dialog's "Test connection" plumbing: run a test off the UI thread with the form's
values, show its result, and clear that result as soon as a field it used changes.

`ConnectionTests` is mixed into `SettingsDialog`, which owns the widgets, the signals and the
runner; this module holds only what the two tests do with them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from PySide6.QtCore import QCoreApplication, Slot
from PySide6.QtWidgets import QLineEdit

from engine.config.file import PlexSyncConfig
from gui.settings.help import describe_failure
from gui.settings.numbers import NumberEdit
from gui.translations import fill, translate_n

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel, QPushButton

    from gui.background import Runner
    from gui.settings.fields import LibraryPicker

logger = logging.getLogger(__name__)

TEST_FIELDS = {  # what each "Test connection" uses: a change to any of them clears its result
    "plex": (
        "plex_url",
        "plex_token",
        "plex_ca_bundle",
        "plex_connect_timeout",
        "plex_read_timeout",
    ),
    "stash": ("stash_url", "stash_api_key", "stash_ca_bundle"),
}


def tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


def default_plex_tester(config: PlexSyncConfig) -> list[str]:
    from engine.plex.client import test_plex_connection  # heavy, rarely used

    return test_plex_connection(config)


def default_stash_tester(config: PlexSyncConfig) -> str:
    from engine.stash.client import test_stash_connection

    return test_stash_connection(config)


class ConnectionTests:
    """The two connection tests of `SettingsDialog` (a mixin: the dialog provides the rest)."""

    if TYPE_CHECKING:  # provided by SettingsDialog
        _original: PlexSyncConfig
        _runner: Runner
        _plex_tester: Callable[[PlexSyncConfig], list[str]]
        _stash_tester: Callable[[PlexSyncConfig], str]
        _test_generation: dict[str, int]
        _running_test: dict[str, int]
        _plex_tested: Any
        _stash_tested: Any
        numbers: dict[str, NumberEdit]
        plex_test: QPushButton
        stash_test: QPushButton
        plex_result: QLabel
        stash_result: QLabel
        libraries: LibraryPicker

        def form_data(self) -> dict[str, Any]: ...
        def line_edit(self, name: str) -> QLineEdit | None: ...

    def _config_for_test(self, fields: tuple[str, ...]) -> PlexSyncConfig | None:
        """The saved config with this form's values for `fields` (others may be mid-edit)."""
        data = self._original.model_dump()
        form = self.form_data()
        data.update({name: form[name] for name in fields})
        try:
            return PlexSyncConfig.model_validate(data)
        except ValidationError:
            return None

    def _clear_tests_on_change(self) -> None:
        """A test's result speaks for the fields it used: any change to them clears it."""
        for service, fields in TEST_FIELDS.items():
            for name in fields:
                editor = self.numbers.get(name) or self.line_edit(name)
                signal = editor.valueChanged if isinstance(editor, NumberEdit) else None
                if signal is None and isinstance(editor, QLineEdit):
                    signal = editor.textChanged
                if signal is not None:
                    signal.connect(lambda *_args, s=service: self._clear_test(s))

    def _clear_test(self, service: str) -> None:
        self._test_generation[service] += 1
        (self.plex_result if service == "plex" else self.stash_result).setText("")

    @Slot()
    def on_plex_test_clicked(self) -> None:
        config = self._config_for_test(TEST_FIELDS["plex"])
        if config is None or not config.plex_url:
            self.plex_result.setText(tr("Enter a valid Plex URL first."))
            return
        self.plex_test.setEnabled(False)
        self.plex_result.setText(tr("Testing…"))
        tester, generation = self._plex_tester, self._test_generation["plex"]
        self._running_test["plex"] = generation
        self._runner(lambda: tester(config), self._plex_tested.emit)

    @Slot(object, object)
    def _on_plex_tested(self, libraries: list[str] | None, error: BaseException | None) -> None:
        self.plex_test.setEnabled(True)
        if self._running_test.get("plex") != self._test_generation["plex"]:
            return  # a field changed while testing: this answer is about other settings
        if error is not None or libraries is None:
            logger.info("Plex connection test failed: %s", error)
            failure = describe_failure(error or RuntimeError(), "Plex")
            self.plex_result.setText(fill(tr("✗ %1"), failure))
            return
        found = translate_n(
            "SettingsDialog",
            "✓ Connected: 1 movie library.",
            "✓ Connected: %n movie libraries.",
            len(libraries),
        )
        self.plex_result.setText(found)
        self.libraries.set_libraries(libraries, self.libraries.chosen())

    @Slot()
    def on_stash_test_clicked(self) -> None:
        config = self._config_for_test(TEST_FIELDS["stash"])
        if config is None:
            self.stash_result.setText(tr("Enter a valid Stash URL first."))
            return
        self.stash_test.setEnabled(False)
        self.stash_result.setText(tr("Testing…"))
        tester, generation = self._stash_tester, self._test_generation["stash"]
        self._running_test["stash"] = generation
        self._runner(lambda: tester(config), self._stash_tested.emit)

    @Slot(object, object)
    def _on_stash_tested(self, version: str | None, error: BaseException | None) -> None:
        self.stash_test.setEnabled(True)
        if self._running_test.get("stash") != self._test_generation["stash"]:
            return  # a field changed while testing: this answer is about other settings
        if error is not None:
            logger.info("Stash connection test failed: %s", error)
            self.stash_result.setText(fill(tr("✗ %1"), describe_failure(error, "Stash")))
            return
        self.stash_result.setText(fill(tr("✓ Connected to Stash %1."), version))
