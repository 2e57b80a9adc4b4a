"""Recent activity: a table model that pages through the `activity` table off the UI thread.

The view asks for more rows as it scrolls (`canFetchMore`/`fetchMore`); each page is read on the
reader's worker thread by keyset, so 100,000 rows cost the window one page at a time.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from engine.store.activity import Activity, ActivityKind, ActivityStore
from gui.timefmt import format_datetime
from gui.translations import fill

logger = logging.getLogger(__name__)

PAGE_SIZE = 200
COLUMNS = ("When", "What", "Scene", "Changed in Plex")  # translated when shown
KIND_WORDS = {
    ActivityKind.SYNCED: "Synced",
    ActivityKind.FAILED: "Failed",
    ActivityKind.CHECK: "Library check",
    ActivityKind.HELD: "Not synced",
}
ACTIVITY_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex


class ActivityReader(QObject):
    """Reads pages on one worker thread that owns its own connection; results come by signal."""

    page_ready = Signal(int, object, object)  # request id, before_id (None: newest), entries
    read_failed = Signal(str)

    def __init__(self, database: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="activity-reader")
        self._store: ActivityStore | None = None

    def request(self, request_id: int, limit: int, before_id: int | None = None) -> None:
        try:
            self._pool.submit(self._read, request_id, limit, before_id)
        except RuntimeError:  # closed
            pass

    def _read(self, request_id: int, limit: int, before_id: int | None) -> None:
        try:
            if self._store is None:
                self._store = ActivityStore(self._database)
            entries = self._store.activity_page(limit, before_id=before_id)
        except Exception as exc:
            logger.warning("Could not read recent activity: %s", exc)
            self.read_failed.emit(str(exc) or type(exc).__name__)
            return
        self.page_ready.emit(request_id, before_id, entries)

    def close(self) -> None:
        try:
            self._pool.submit(self._close_store)
        except RuntimeError:
            return  # closed already
        self._pool.shutdown(wait=True)

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class ActivityTableModel(QAbstractTableModel):
    """Newest first; `reload()` starts again at the top, scrolling fetches older pages."""

    def __init__(self, reader: ActivityReader, parent: Any = None) -> None:
        super().__init__(parent)
        self._reader = reader
        self._entries: list[Activity] = []
        self._exhausted = False
        self._loading = False
        self._generation = 0  # a reload makes answers to older requests stale
        reader.page_ready.connect(self._on_page_ready)
        reader.read_failed.connect(self._on_read_failed)

    def reload(self) -> None:
        self._generation += 1
        self._loading = True
        self._reader.request(self._generation, PAGE_SIZE, None)

    def entry(self, row: int) -> Activity:
        return self._entries[row]

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008 (Qt's)
        return (
            not parent.isValid() and bool(self._entries) and not (self._exhausted or self._loading)
        )

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        self._loading = True
        self._reader.request(self._generation, PAGE_SIZE, self._entries[-1].id)

    def _on_page_ready(
        self, request_id: int, before_id: int | None, entries: list[Activity]
    ) -> None:
        if request_id != self._generation:
            return
        self._loading = False
        self._exhausted = len(entries) < PAGE_SIZE
        if before_id is None:
            self.beginResetModel()
            self._entries = list(entries)
            self.endResetModel()
        elif entries:
            start = len(self._entries)
            self.beginInsertRows(QModelIndex(), start, start + len(entries) - 1)
            self._entries.extend(entries)
            self.endInsertRows()

    def _on_read_failed(self, _message: str) -> None:
        self._loading = False

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        if role == ACTIVITY_ROLE:
            return entry
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return _cell(entry, index.column(), tooltip=role == Qt.ItemDataRole.ToolTipRole)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate("ActivityTable", COLUMNS[section])
        return None


def _cell(entry: Activity, column: int, *, tooltip: bool) -> str | None:
    if column == 0:
        return format_datetime(entry.at)
    if column == 1:
        return QCoreApplication.translate("ActivityTable", KIND_WORDS[entry.kind])
    if column == 2:
        title = entry.title or QCoreApplication.translate("ActivityTable", "(no title)")
        if tooltip and entry.scene_id:
            template = QCoreApplication.translate("ActivityTable", "%1 (scene %2)")
            return fill(template, title, entry.scene_id)
        return title
    return entry.summary or None


def menu_text(entry: Activity) -> str:
    """One line for the tray's Recent activity submenu."""

    def tr(text: str) -> str:
        return QCoreApplication.translate("RecentActivityMenu", text)

    scene = tr("Scene %1").replace("%1", entry.scene_id) if entry.scene_id else ""
    title = entry.title or scene
    if entry.kind is ActivityKind.FAILED:
        return tr("Failed: %1").replace("%1", title)
    if entry.kind is ActivityKind.CHECK:
        return tr("Library check: %1").replace("%1", entry.summary)
    return tr("%1: %2").replace("%1", title).replace("%2", entry.summary)
