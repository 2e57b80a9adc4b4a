"""The dead-letter queue as a Qt table model, a filtering proxy, and a CSV export."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from engine.store.jobs import DeadLetter
from gui.timefmt import format_datetime
from gui.translations import fill, translate_n

logger = logging.getLogger(__name__)


def tr(text: str) -> str:
    return QCoreApplication.translate("DlqTable", text)


# (header, attribute); the attribute's raw value is the sort key; headers translated when shown.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Scene", "scene_id"),
    ("Title", "title"),
    ("Error class", "error_class"),
    ("Message", "message"),
    ("Attempts", "attempts"),
    ("First failure", "first_failure_at"),
    ("Last failure", "last_failure_at"),
)
TIME_COLUMNS = frozenset({"first_failure_at", "last_failure_at"})

SORT_ROLE = Qt.ItemDataRole.UserRole
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1

CSV_FIELDS = (
    "id",
    "scene_id",
    "title",
    "error_class",
    "message",
    "attempts",
    "first_failure_utc",
    "last_failure_utc",
    "first_failure_at",
    "last_failure_at",
    "payload",
)

_Index = QModelIndex | QPersistentModelIndex


class DlqTableModel(QAbstractTableModel):
    """Rows are `DeadLetter` snapshots; the model is replaced whole on every refresh."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._entries: list[DeadLetter] = []

    @property
    def entries(self) -> list[DeadLetter]:
        return list(self._entries)

    def set_entries(self, entries: Iterable[DeadLetter]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def entry(self, row: int) -> DeadLetter:
        return self._entries[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        attr = COLUMNS[index.column()][1]
        value = getattr(entry, attr)
        if role == Qt.ItemDataRole.DisplayRole:
            if attr in TIME_COLUMNS:
                return format_datetime(value)
            if attr == "message":
                return _first_line(value)
            return str(value)
        if role == SORT_ROLE:
            return value.casefold() if isinstance(value, str) else value
        if role == ENTRY_ROLE:
            return entry
        if role == Qt.ItemDataRole.ToolTipRole and attr in {"message", "title"}:
            return value or None
        if role == Qt.ItemDataRole.TextAlignmentRole and attr == "attempts":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(COLUMNS[section][0])
        return None


class DlqFilterProxy(QSortFilterProxyModel):
    """Sorts by raw values and keeps the rows where any column contains the filter text."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)

    def entries(self) -> list[DeadLetter]:
        """The rows as shown: filtered and in the current sort order."""
        return [self.data(self.index(row, 0), ENTRY_ROLE) for row in range(self.rowCount())]

    def entries_for(self, indexes: Iterable[QModelIndex]) -> list[DeadLetter]:
        """The distinct entries behind some proxy indexes (e.g. a selection), in row order."""
        rows = sorted({index.row() for index in indexes})
        return [self.data(self.index(row, 0), ENTRY_ROLE) for row in rows]


def _first_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 200 else first[:199] + "…"


def details_text(entry: DeadLetter) -> str:
    """The full error and the payload, for the details pane."""
    payload = json.dumps(entry.payload, indent=2, ensure_ascii=False, sort_keys=True)
    lines = [
        fill(tr("Scene %1: %2"), entry.scene_id, entry.title or tr("(no title)")),
        fill(
            translate_n("DlqTable", "%1 after 1 attempt", "%1 after %n attempts", entry.attempts),
            entry.error_class,
        ),
        fill(tr("First failure: %1"), format_datetime(entry.first_failure_at)),
        fill(tr("Last failure: %1"), format_datetime(entry.last_failure_at)),
    ]
    return "\n".join([*lines, "", entry.message, "", tr("Payload:"), payload, ""])


def export_csv(entries: Sequence[DeadLetter], path: Path) -> int:
    """Write entries as UTF-8 CSV and return how many.

    Times appear twice: ISO 8601 in UTC for people, and exact epoch seconds for scripts. The payload
    is one JSON cell.
    """
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_FIELDS)
        for entry in entries:
            writer.writerow(
                [
                    entry.id,
                    entry.scene_id,
                    entry.title,
                    entry.error_class,
                    entry.message,
                    entry.attempts,
                    _iso(entry.first_failure_at),
                    _iso(entry.last_failure_at),
                    repr(entry.first_failure_at),
                    repr(entry.last_failure_at),
                    json.dumps(entry.payload, ensure_ascii=False, sort_keys=True),
                ]
            )
    logger.info("Exported %d dead-letter entries to %s", len(entries), path)
    return len(entries)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def read_csv(path: Path) -> list[DeadLetter]:
    """Read an export back (for tests and for anyone scripting around the export)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            DeadLetter(
                id=int(row["id"]),
                scene_id=row["scene_id"],
                title=row["title"],
                error_class=row["error_class"],
                message=row["message"],
                attempts=int(row["attempts"]),
                first_failure_at=float(row["first_failure_at"]),
                last_failure_at=float(row["last_failure_at"]),
                payload=json.loads(row["payload"]),
            )
            for row in csv.DictReader(handle)
        ]
