"""Tray menu entries beyond syncing: Recent activity, Open Plex / Stash, the config folder, the
log viewer and About. Added to `TrayController`'s menu by the composition root, above "Start at
login", so the core menu stays as it is.

The Recent activity submenu is rebuilt on `aboutToShow` from a small snapshot (the last
`MENU_ENTRIES`), read off the UI thread a moment after the engine reports work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from engine.paths import AppPaths
from engine.runtime.logs import TRAY_LOG_FILE
from engine.store.activity import Activity, ActivityKind
from gui.about_dialog import AboutDialog
from gui.log_viewer import LogViewer
from gui.mnemonics import literal
from gui.open_places import Opener
from gui.widgets.activity_table import ActivityReader, menu_text

logger = logging.getLogger(__name__)

MENU_ENTRIES = 8
DEBOUNCE_MS = 1000  # a burst of finished jobs is one read


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class RecentActivityMenu(QObject):
    def __init__(
        self,
        title: str,
        database: Path,
        bridge: QObject,
        open_entry: Callable[[Activity], object],
        show_all: Callable[[], object] | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.menu = QMenu(title)
        self.snapshot: list[Activity] = []
        self.entry_actions: list[QAction] = []  # one per snapshot row: data, no mnemonic
        self._open_entry = open_entry
        self._show_all = show_all
        self.reader = ActivityReader(database, self)
        self.reader.page_ready.connect(self._on_page_ready)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.request)
        for name in ("job_finished", "check_changed", "dead_lettered"):
            signal = getattr(bridge, name, None)
            if signal is not None:
                signal.connect(lambda *_: self._debounce.start())
        self.menu.aboutToShow.connect(self.rebuild)
        self.rebuild()
        self.request()

    @Slot()
    def request(self) -> None:
        self.reader.request(0, MENU_ENTRIES)

    def _on_page_ready(self, _request: int, _before: object, entries: list[Activity]) -> None:
        self.snapshot = list(entries)

    @Slot()
    def rebuild(self) -> None:
        """The entries from the last snapshot (never a database read on the UI thread)."""
        self.menu.clear()
        self.entry_actions = []
        if not self.snapshot:
            empty = self.menu.addAction(self.tr("Nothing synced yet"))
            empty.setEnabled(False)
        for entry in self.snapshot:
            action = self.menu.addAction(literal(_short(menu_text(entry))))
            action.setToolTip(entry.summary)
            action.triggered.connect(lambda _=False, e=entry: self._open_entry(e))
            self.entry_actions.append(action)
        if (open_all := self._show_all) is not None:
            self.menu.addSeparator()
            show_all = self.menu.addAction(self.tr("&Show all…"))
            show_all.triggered.connect(lambda _=False: open_all())

    def close(self) -> None:
        self._debounce.stop()
        self.reader.close()


class TrayExtras(QObject):
    """Builds the extra entries into `tray.menu` and owns the dialogs they open."""

    def __init__(
        self,
        tray: object,
        paths: AppPaths,
        opener: Opener,
        bridge: QObject,
        *,
        show_activity: Callable[[], object] | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.opener = opener
        self.about: AboutDialog | None = None
        self.log_viewer: LogViewer | None = None
        menu: QMenu = tray.menu  # type: ignore[attr-defined]
        before: QAction = tray.autostart_action  # type: ignore[attr-defined]
        self.recent = RecentActivityMenu(
            self.tr("Rec&ent activity"),
            paths.database,
            bridge,
            self.open_entry,
            show_activity,
            self,
        )
        self.recent_action = menu.insertMenu(before, self.recent.menu)
        self.actions: dict[str, QAction] = {}
        for key, label, slot in (
            ("plex", self.tr("Open &Plex"), opener.plex),
            ("stash", self.tr("Open Stas&h"), opener.stash),
            ("config", self.tr("Open co&nfig folder"), self.open_config_folder),
            ("log", self.tr("&View log…"), self.show_log),
            ("about", self.tr("&About…"), self.show_about),
        ):
            action = QAction(label, menu)
            action.triggered.connect(lambda _=False, s=slot: s())
            menu.insertAction(before, action)
            self.actions[key] = action

    def open_entry(self, entry: Activity) -> None:
        target = "plex" if entry.kind is ActivityKind.SYNCED and entry.rating_key else "stash"
        logger.info("Opening scene %s from Recent activity in %s", entry.scene_id, target)
        self.opener.activity(entry, target)

    def open_config_folder(self) -> None:
        self.opener.folder(self.paths.config_dir, "Config")

    def open_log_folder(self) -> None:
        self.opener.folder(self.paths.log_dir, "Log")

    def show_about(self) -> None:
        if self.about is None:
            self.about = AboutDialog(self.paths, self.opener.folder)
        self.about.show()
        self.about.raise_()
        self.about.activateWindow()

    def show_log(self) -> None:
        if self.log_viewer is None:
            self.log_viewer = LogViewer(self.paths.log_dir / TRAY_LOG_FILE, self.open_log_folder)
        else:
            self.log_viewer.refresh()
        self.log_viewer.show()
        self.log_viewer.raise_()
        self.log_viewer.activateWindow()

    def close(self) -> None:
        self.recent.close()
        for dialog in (self.about, self.log_viewer):
            if dialog is not None:
                dialog.close()
