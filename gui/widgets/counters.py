"""Live counters (pending, in progress, synced today, DLQ, last sync) and the bulk-sync progress."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QProgressBar, QWidget

from engine.events import EngineStatus, Progress
from gui.timefmt import format_ago, format_duration
from gui.translations import fill, translate_n

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counters:
    """What the counter row shows; built from an engine status or a store snapshot."""

    pending: int
    waiting: int
    in_progress: int
    synced_today: int
    dlq: int
    last_sync_at: float | None
    last_checked_at: float | None = None  # when Stash or Plex last answered (idle is not stale)

    @classmethod
    def from_status(cls, status: EngineStatus) -> Counters:
        return cls(
            pending=status.pending,
            waiting=status.waiting,
            in_progress=status.in_progress,
            synced_today=status.synced_today,
            dlq=status.dlq,
            last_sync_at=status.last_sync_at,
            last_checked_at=status.last_checked_at,
        )


def tr(text: str) -> str:
    return QCoreApplication.translate("CounterPanel", text)


CAPTIONS = {  # translated when the panel is built
    "pending": "Pending",
    "in_progress": "In progress",
    "synced_today": "Synced today",
    "dlq": "Failed scenes",
    "last_sync": "Last synced",
}


class CounterPanel(QWidget):
    """A row of captioned numbers; the values are QLabels named after their keys (for tests)."""

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._counters: Counters | None = None
        self.values: dict[str, QLabel] = {}
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(16)
        layout.setVerticalSpacing(0)
        for column, (key, caption) in enumerate(CAPTIONS.items()):
            label = QLabel(tr(caption))
            value = QLabel("–")
            value.setObjectName(key)
            value.setAccessibleName(tr(caption))
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(key == "last_sync")
            font = value.font()
            font.setBold(True)
            value.setFont(font)
            layout.addWidget(label, 0, column)
            layout.addWidget(value, 1, column)
            layout.setColumnStretch(column, 2 if key == "last_sync" else 1)
            self.values[key] = value

    @property
    def counters(self) -> Counters | None:
        return self._counters

    def set_counters(self, counters: Counters) -> None:
        self._counters = counters
        pending = f"{counters.pending:,}"
        if counters.waiting:
            pending = fill(tr("%1 (%2 waiting)"), pending, f"{counters.waiting:,}")
        self.values["pending"].setText(pending)
        self.values["pending"].setToolTip(
            translate_n(
                "CounterPanel",
                "1 of them waits for a retry after an error",
                "%n of them wait for a retry after an error",
                counters.waiting,
            )
            if counters.waiting
            else ""
        )
        self.values["in_progress"].setText(f"{counters.in_progress:,}")
        self.values["synced_today"].setText(f"{counters.synced_today:,}")
        self.values["dlq"].setText(f"{counters.dlq:,}")
        self.refresh_relative_times()

    def refresh_relative_times(self) -> None:
        """Re-render "3 min ago" (called by the window's slow timer)."""
        if self._counters is not None:
            self.values["last_sync"].setText(
                last_synced_text(
                    self._counters.last_sync_at, self._counters.last_checked_at, self._clock()
                )
            )


def last_synced_text(synced_at: float | None, checked_at: float | None, now: float) -> str:
    """`14:02 (3 min ago) · last checked 14:30 (just now)`: an idle app is not a stale one."""
    synced = format_ago(synced_at, now)
    if checked_at is None:
        return synced
    return fill(tr("%1 · last checked %2"), synced, format_ago(checked_at, now))


def progress_text(progress: Progress) -> str:
    """12.5 scenes/s · about 4 min left."""
    parts = []
    if progress.rate > 0:
        parts.append(tr("%1 scenes/s").replace("%1", f"{progress.rate:.1f}"))
    left = progress.seconds_left
    if left is not None:
        parts.append(tr("about %1 left").replace("%1", format_duration(left)))
    return " · ".join(parts) if parts else tr("estimating…")


class SyncProgress(QWidget):
    """A bar for a large sync (done / total), with the rate and the time left; hidden otherwise."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setAccessibleName(tr("Sync progress"))
        self.details = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(tr("Syncing:")))
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.details)
        self._progress: Progress | None = None
        # Hidden, it keeps its height: the window does not jump when a sync starts.
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self.set_progress(None)

    @property
    def progress(self) -> Progress | None:
        return self._progress

    def set_progress(self, progress: Progress | None) -> None:
        self._progress = progress
        if progress is None or progress.total <= 0:
            self.hide()
            return
        self.bar.setRange(0, progress.total)
        self.bar.setValue(min(progress.done, progress.total))
        self.bar.setFormat(f"{progress.done:,} / {progress.total:,}")
        self.details.setText(progress_text(progress))
        self.show()
