"""The About box: version, licence, where the files are (each with an open button), links."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine import __version__
from engine.paths import AppPaths
from gui.mnemonics import label_standard_buttons, plain
from gui.presentation import APP_TITLE
from gui.window_fit import add_close_keys

LICENCE = "MIT"
LINKS = (
    ("Plex: finding your token", "https://support.plex.tv/articles/204059436"),
    ("Stash: API keys", "https://docs.stashapp.cc/in-app-manual/settings/#security"),
)


class AboutDialog(QDialog):
    def __init__(
        self,
        paths: AppPaths,
        open_folder: Callable[[Path, str], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About %1").replace("%1", APP_TITLE))
        self.setObjectName("aboutDialog")
        title = QLabel(f"<b>{APP_TITLE}</b> {__version__}")
        title.setAccessibleName(self.tr("Version"))
        blurb = QLabel(
            self.tr(
                "Keeps Plex's metadata in step with Stash, from the tray.<br>"
                "Licence: %1. Copyright the PlexSync Tray authors."
            ).replace("%1", LICENCE),
            wordWrap=True,
        )
        grid = QGridLayout()
        self.open_buttons: dict[str, QPushButton] = {}
        rows = (
            ("Config", self.tr("Config:"), self.tr("Open con&fig folder"), paths.config_dir),
            ("Data", self.tr("Data:"), self.tr("Open &data folder"), paths.data_dir),
            ("Logs", self.tr("Logs:"), self.tr("Open &log folder"), paths.log_dir),
        )
        for row, (what, caption, label, path) in enumerate(rows):
            grid.addWidget(QLabel(caption), row, 0)
            shown = QLabel(str(path))
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            shown.setAccessibleName(plain(caption).rstrip(":"))
            grid.addWidget(shown, row, 1)
            button = QPushButton(label)
            button.setAccessibleName(plain(label))
            button.setToolTip(self.tr("Open %1 in the file manager").replace("%1", str(path)))
            button.clicked.connect(lambda _=False, p=path, w=what: open_folder(p, w))
            grid.addWidget(button, row, 2)
            self.open_buttons[what] = button
        grid.setColumnStretch(1, 1)
        links = QLabel(" · ".join(f'<a href="{url}">{text}</a>' for text, url in LINKS))
        links.setOpenExternalLinks(True)
        links.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        label_standard_buttons(buttons)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(blurb)
        layout.addLayout(grid)
        layout.addWidget(links)
        layout.addWidget(buttons)
        add_close_keys(self)  # Esc and Ctrl+W, as in the status window
