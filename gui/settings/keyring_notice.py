"""The settings dialog's word on secrets the keyring could not give: why, and a Retry button.

A locked keyring at login (or one that did not answer) leaves the token and API key empty in
the form. The dialog then says so, saving keeps their keyring entries as they are (issue 22),
and Retry reads them again off the GUI thread once the user has unlocked the keyring.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from engine.config.file import ConfigLoad, Unread, load_config_report
from engine.config.secret_store import SecretStore
from gui.background import Runner

logger = logging.getLogger(__name__)
WORDS = {
    Unread.LOCKED: "The system keyring is locked, so the Plex token and Stash API key could "
    "not be read: unlock it and press Retry. Saving meanwhile keeps them in the keyring.",
    Unread.NO_ANSWER: "The system keyring did not answer, so the Plex token and Stash API key "
    "could not be read: check that it is running and unlocked, then press Retry. Saving "
    "meanwhile keeps them in the keyring.",
    Unread.FAILED: "The system keyring could not be read (the log says why): press Retry to "
    "try again. Saving meanwhile keeps the token and API key in the keyring.",
    Unread.UNAVAILABLE: "The system keyring cannot be used now, so the Plex token and Stash "
    "API key could not be read: press Retry once it runs. Saving meanwhile keeps them there.",
}


def tr(text: str) -> str:
    return QCoreApplication.translate("KeyringNotice", text)


def keyring_words(problem: Unread | None) -> str:
    """What the notice says for `problem` (nothing for none, or for an entry that is missing:
    that field's own message asks for it again)."""
    words = WORDS.get(problem) if problem is not None else None
    return tr(words) if words else ""


class KeyringNotice(QWidget):
    """A banner with a Retry button; `secrets_read` carries a load in which they were read."""

    secrets_read = Signal(object)  # ConfigLoad
    _reread = Signal(object, object)  # ConfigLoad | None, error | None (from the worker)

    def __init__(
        self,
        config_file: Path,
        secrets: SecretStore | None,
        runner: Runner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._config_file, self._secrets, self._runner = config_file, secrets, runner
        self.label = QLabel(self)
        self.label.setObjectName("keyring_notice")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet("QLabel { background: #fff3cd; color: #533f03; padding: 6px; }")
        self.retry_button = QPushButton(tr("&Retry"), self)
        self.retry_button.setObjectName("keyring_retry")
        self.retry_button.setToolTip(tr("Read the token and API key from the keyring again"))
        self.retry_button.clicked.connect(self.on_retry_button_clicked)
        self._reread.connect(self._on_reread)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        self.show_problem(None)

    def text(self) -> str:
        return self.label.text()

    def show_problem(self, problem: Unread | None) -> None:
        words = keyring_words(problem)
        self.label.setText(words)
        self.setVisible(bool(words))
        self.retry_button.setEnabled(True)

    @Slot()
    def on_retry_button_clicked(self) -> None:
        self.retry_button.setEnabled(False)
        self.label.setText(tr("Reading the token and API key from the keyring…"))
        path, store = self._config_file, self._secrets

        def read() -> ConfigLoad:
            return load_config_report(path, secrets=store)

        self._runner(read, self._reread.emit)

    @Slot(object, object)
    def _on_reread(self, loaded: ConfigLoad | None, error: BaseException | None) -> None:
        if loaded is None:
            logger.warning("Could not read the settings again: %s", error)
            self.show_problem(Unread.FAILED)
            return
        self.show_problem(loaded.keyring_problem)
        if loaded.in_store:
            self.secrets_read.emit(loaded)
