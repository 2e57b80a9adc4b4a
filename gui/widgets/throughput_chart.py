"""Throughput: scenes synced per minute over the last hour, as 60 small bars."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QWidget

from gui.timefmt import MINUTE, local
from gui.translations import fill, translate_n
from gui.widgets.chart_base import Chart

logger = logging.getLogger(__name__)

BAR_COLOUR = QColor("#3584e4")
CONTEXT = "ThroughputChart"


def tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


MINUTES = 60


def minute_buckets(
    per_minute: Sequence[tuple[float, int]], now: float, minutes: int = MINUTES
) -> list[tuple[float, int]]:
    """One (minute start, count) per minute of the last `minutes`, oldest first, zeros filled."""
    current = (now // MINUTE) * MINUTE
    counts: dict[float, int] = {}
    for start, count in per_minute:
        key = (start // MINUTE) * MINUTE
        counts[key] = counts.get(key, 0) + count
    starts = [current - (minutes - 1 - i) * MINUTE for i in range(minutes)]
    return [(start, counts.get(start, 0)) for start in starts]


def axis_top(peak: int) -> int:
    """The y-axis' top: the next 1, 2 or 5 times a power of ten at or above `peak` (at least 1)."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= peak:
                return step * scale
        scale *= 10


def axis_ticks(peak: int) -> list[int]:
    """Whole-number labels for the y-axis: 0, the middle where it is whole, and the top."""
    top = axis_top(peak)
    return [0, top // 2, top] if top % 2 == 0 else [0, top]


class ThroughputChart(Chart):
    """Bars for the last hour, newest on the right; hover a bar for its minute and count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(tr("Scenes synced per minute, last hour"))
        self._buckets: list[tuple[float, int]] = minute_buckets((), 0.0)

    @property
    def buckets(self) -> list[tuple[float, int]]:
        return list(self._buckets)

    @property
    def total(self) -> int:
        return sum(count for _, count in self._buckets)

    @property
    def peak(self) -> int:
        return max((count for _, count in self._buckets), default=0)

    def set_data(self, per_minute: Sequence[tuple[float, int]], now: float) -> None:
        self._buckets = minute_buckets(per_minute, now)
        scenes = translate_n(
            CONTEXT, "1 scene in the last hour", "%n scenes in the last hour", self.total
        )
        self.setAccessibleDescription(fill(tr("%1, peak %2/min"), scenes, self.peak))
        self.update()

    # --- geometry ------------------------------------------------------------------------------

    def plot_rect(self) -> QRectF:
        """The base plot minus a left gutter for the y-axis' labels."""
        plot = super().plot_rect()
        widest = max(self.fontMetrics().horizontalAdvance(str(t)) for t in axis_ticks(self.peak))
        return plot.adjusted(widest + 6, 0, 0, 0)

    def y_for(self, count: float) -> float:
        plot = self.plot_rect()
        return plot.bottom() - plot.height() * count / axis_top(self.peak)

    def bar_slot(self, index: int) -> QRectF:
        """The full-height column of bar `index` (0 = oldest minute)."""
        plot = self.plot_rect()
        width = plot.width() / len(self._buckets)
        return QRectF(plot.left() + index * width, plot.top(), width, plot.height())

    def bucket_at(self, x: float) -> tuple[float, int] | None:
        plot = self.plot_rect()
        if not plot.left() <= x < plot.right():
            return None
        index = int((x - plot.left()) / (plot.width() / len(self._buckets)))
        return self._buckets[min(index, len(self._buckets) - 1)]

    def tooltip_at(self, pos: QPoint) -> str | None:
        if not self.plot_rect().contains(QPointF(pos)):
            return None
        bucket = self.bucket_at(pos.x())
        if bucket is None:
            return None
        start, count = bucket
        scenes = translate_n(CONTEXT, "1 scene", "%n scenes", count)
        return fill(tr("%1: %2"), local(start).strftime("%H:%M"), scenes)

    # --- painting ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        plot = self.plot_rect()
        text_colour = self.palette().color(QPalette.ColorRole.WindowText)
        base = self.palette().color(QPalette.ColorRole.Base)
        painter.fillRect(plot, base)
        peak = self.peak
        if peak:
            for index, (_, count) in enumerate(self._buckets):
                if count:
                    slot = self.bar_slot(index)
                    height = max(1.0, slot.bottom() - self.y_for(count))
                    gap = 1.0 if slot.width() > 3 else 0.0
                    bar = QRectF(slot.left(), slot.bottom() - height, slot.width() - gap, height)
                    painter.fillRect(bar, BAR_COLOUR)
        else:
            painter.setPen(QPen(text_colour, 1))
            painter.drawText(
                plot, Qt.AlignmentFlag.AlignCenter, tr("Nothing synced in the last hour")
            )
        painter.setPen(QPen(text_colour, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(plot)
        self._paint_axis(painter, plot, text_colour)
        top = QRectF(plot.left(), 0, plot.width(), plot.top())
        painter.drawText(
            top,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fill(tr("Scenes per minute, last hour: %1 in all"), f"{self.total:,}"),
        )
        painter.drawText(
            top,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            fill(tr("peak %1/min"), peak),
        )
        bottom = QRectF(plot.left(), plot.bottom(), plot.width(), self.height() - plot.bottom())
        painter.drawText(
            bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, tr("−60 min")
        )
        painter.drawText(
            bottom, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, tr("now")
        )
        painter.end()

    def _paint_axis(self, painter: QPainter, plot: QRectF, text_colour: QColor) -> None:
        """Scenes per minute on the left: a label and a faint grid line at each tick."""
        grid = QColor(text_colour)
        grid.setAlpha(50)
        line = self.fontMetrics().height()
        for tick in axis_ticks(self.peak):
            y = self.y_for(tick)
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(QPen(text_colour, 1))
            box = QRectF(0, y - line / 2, plot.left() - 3, line)
            painter.drawText(
                box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(tick)
            )
