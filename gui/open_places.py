"""Opening folders and web pages from the menu, with a way out when nothing can open them.

`QDesktopServices.openUrl` answers False when no file manager or browser is there (a minimal
desktop, a container): then the path or address is shown in a dialog with a Copy button, so the
user is never left with a click that did nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.config.file import PlexSyncConfig
from engine.store.activity import Activity
from gui.mnemonics import label_standard_buttons
from gui.translations import fill
from gui.web_links import plex_item_url, plex_web_url, stash_scene_url, stash_web_url
from gui.window_fit import add_close_keys

logger = logging.getLogger(__name__)

OpenUrl = Callable[[QUrl], object]

# what -> (dialog title, why the dialog shows); translated when shown (context "Opener")
FOLDER_WORDS = {
    "Config": ("Config folder", "No file manager could open the config folder. It is here:"),
    "Data": ("Data folder", "No file manager could open the data folder. It is here:"),
    "Log": ("Log folder", "No file manager could open the log folder. It is here:"),
}
FOLDER_WORDS["Logs"] = FOLDER_WORDS["Log"]
OTHER_FOLDER = ("Folder", "No file manager could open this folder. It is here:")


def tr(text: str) -> str:
    return QCoreApplication.translate("Opener", text)


class PathDialog(QDialog):
    """Where something is, selectable, with a Copy button (nothing could open it)."""

    def __init__(
        self, title: str, explanation: str, text: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.explanation = QLabel(explanation, wordWrap=True)
        self.field = QLineEdit(text)
        self.field.setReadOnly(True)
        self.field.setAccessibleName(self.tr("Location"))
        self.field.setMinimumWidth(420)
        self.copy_button = QPushButton(self.tr("Co&py"))
        self.copy_button.clicked.connect(self.copy)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        label_standard_buttons(buttons)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.field)
        layout.addWidget(buttons)
        add_close_keys(self)  # Esc and Ctrl+W, as in the status window

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.field.text())
        self.copy_button.setText(self.tr("Co&pied"))


class Opener:
    """Opens folders and the two web apps; shows a `PathDialog` when opening fails."""

    def __init__(
        self,
        config: Callable[[], PlexSyncConfig],
        open_url: OpenUrl,
        *,
        show_dialog: Callable[[PathDialog], None] | None = None,
    ) -> None:
        self._config = config
        self._open_url = open_url
        self._show_dialog = show_dialog or _show_modeless
        self.last_dialog: PathDialog | None = None

    def folder(self, path: Path, what: str) -> bool:
        """Open a folder in the file manager (created first, so there is something to open)."""
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            logger.warning("Could not create %s: %s", path, exc)
        if self._open_url(QUrl.fromLocalFile(str(path))) is not False:
            return True
        logger.info("No file manager opened %s; showing its path", path)
        title, explanation = FOLDER_WORDS.get(what, OTHER_FOLDER)
        self._fallback(tr(title), tr(explanation), str(path))
        return False

    def web(self, url: str, what: str) -> bool:
        if not url:
            explanation = fill(tr("%1 has no address yet: set it in Settings."), what)
            self._fallback(what, explanation, "")
            return False
        if self._open_url(QUrl(url)) is not False:
            return True
        logger.info("No web browser opened %s; showing its address", what)
        explanation = fill(tr("No web browser could open %1. Its address is:"), what)
        self._fallback(what, explanation, url)
        return False

    def plex(self) -> bool:
        return self.web(plex_web_url(self._config().plex_url), "Plex")

    def stash(self) -> bool:
        return self.web(stash_web_url(self._config().stash_url), "Stash")

    def activity(self, entry: Activity, target: str) -> bool:
        """A Recent activity row: its item in Plex Web, or its scene in Stash."""
        config = self._config()
        if target == "plex":
            url = plex_item_url(config.plex_url, entry.server_id, entry.rating_key)
            return self.web(url, "Plex")
        return self.web(stash_scene_url(config.stash_url, entry.scene_id), "Stash")

    def _fallback(self, title: str, explanation: str, text: str) -> None:
        self.last_dialog = PathDialog(title, explanation, text)
        self._show_dialog(self.last_dialog)


def _show_modeless(dialog: PathDialog) -> None:
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
