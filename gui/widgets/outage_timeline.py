"""Outage history: the last 30 days as a band, each outage a red bar; stats in words.

Hovering a bar shows when the outage started and ended and how long it lasted. An outage still
going on reaches "now" and is hatched. The stats are the average time to recover (over the outages
that ended) and the availability over the whole window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.store import Outage
from gui.widgets.chart_base import Chart
from gui.widgets.timefmt import DAY, format_datetime, format_duration, local, local_midnight

logger = logging.getLogger(__name__)

OUTAGE_COLOUR = QColor("#d0342c")
UP_COLOUR = QColor("#cfe9d6")
MIN_BAR_WIDTH = 4.0  # a one-minute outage in a 30-day band must still be visible and hoverable


@dataclass(frozen=True)
class OutageStats:
    count: int
    downtime: float  # seconds inside the window
    mean_recovery: float | None  # over the outages that ended; None when none has
    availability: float  # 0..1 over the window
    ongoing: bool


def outage_stats(outages: Sequence[Outage], since: float, now: float) -> OutageStats:
    """Downtime, average time to recover and availability over [since, now]."""
    spans = sorted(
        (max(o.started_at, since), min(now if o.ended_at is None else o.ended_at, now))
        for o in outages
    )
    downtime, reach = 0.0, since
    for start, end in spans:  # merge overlaps so nothing is counted twice
        start = max(start, reach)
        if end > start:
            downtime += end - start
            reach = end
    durations = [d for d in (o.duration for o in outages) if d is not None]
    window = now - since
    return OutageStats(
        count=len(outages),
        downtime=downtime,
        mean_recovery=sum(durations) / len(durations) if durations else None,
        availability=1.0 if window <= 0 else max(0.0, 1.0 - downtime / window),
        ongoing=any(o.ended_at is None for o in outages),
    )


def format_availability(stats: OutageStats) -> str:
    percent = stats.availability * 100
    if stats.downtime > 0:
        percent = min(percent, 99.99)  # never round real downtime up to a perfect 100 %
    return f"{percent:.2f} %"


def stats_text(stats: OutageStats, days: int = 30) -> str:
    """One line under the timeline."""
    if stats.count == 0:
        return f"No outages in the last {days} days · availability 100 %"
    parts = [f"{stats.count} outage{'s' if stats.count != 1 else ''}"]
    if stats.mean_recovery is not None:
        parts.append(f"average time to recover {format_duration(stats.mean_recovery)}")
    parts.append(f"availability {format_availability(stats)}")
    if stats.ongoing:
        parts.append("an outage is ongoing")
    return " · ".join(parts)


def outage_tooltip(outage: Outage, now: float) -> str:
    if outage.ended_at is None:
        ended = "still down"
        duration = f"{format_duration(now - outage.started_at)} so far"
    else:
        ended = format_datetime(outage.ended_at)
        duration = format_duration(outage.ended_at - outage.started_at)
    return (
        f"Plex outage\nStarted: {format_datetime(outage.started_at)}\n"
        f"Ended: {ended}\nDuration: {duration}"
    )


class OutageTimeline(Chart):
    """The last `days` days as a horizontal band with one bar per outage."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Outage timeline")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self._outages: tuple[Outage, ...] = ()
        self._since = 0.0
        self._now = DAY

    @property
    def outages(self) -> tuple[Outage, ...]:
        return self._outages

    def set_outages(self, outages: Sequence[Outage], since: float, now: float) -> None:
        self._outages = tuple(outages)
        self._since, self._now = since, max(now, since + 1)
        self.setAccessibleDescription(stats_text(self.stats()))
        self.update()

    def stats(self) -> OutageStats:
        return outage_stats(self._outages, self._since, self._now)

    # --- geometry ------------------------------------------------------------------------------

    def x_for(self, ts: float) -> float:
        plot = self.plot_rect()
        share = (ts - self._since) / (self._now - self._since)
        return plot.left() + min(1.0, max(0.0, share)) * plot.width()

    def bar_rect(self, outage: Outage) -> QRectF:
        plot = self.plot_rect()
        end = self._now if outage.ended_at is None else outage.ended_at
        left, right = self.x_for(outage.started_at), self.x_for(end)
        width = max(MIN_BAR_WIDTH, right - left)
        left = min(left, plot.right() - width)
        return QRectF(left, plot.top(), width, plot.height())

    def outage_at(self, x: float) -> Outage | None:
        """The outage drawn at x (the nearest one when bars are within a few pixels)."""
        best: tuple[float, Outage] | None = None
        for outage in self._outages:
            rect = self.bar_rect(outage)
            distance = (
                0.0
                if rect.left() <= x <= rect.right()
                else min(abs(x - rect.left()), abs(x - rect.right()))
            )
            if distance <= 2 and (best is None or distance < best[0]):
                best = (distance, outage)
        return None if best is None else best[1]

    def tooltip_at(self, pos: QPoint) -> str | None:
        if not self.plot_rect().adjusted(-2, -2, 2, 2).contains(QPointF(pos)):
            return None
        outage = self.outage_at(pos.x())
        return None if outage is None else outage_tooltip(outage, self._now)

    # --- painting ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        plot = self.plot_rect()
        text_colour = self.palette().color(QPalette.ColorRole.WindowText)
        painter.fillRect(plot, UP_COLOUR)
        self._paint_days(painter, plot, text_colour)
        painter.setPen(QPen(text_colour, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(plot)
        hatch = QBrush(OUTAGE_COLOUR.darker(160), Qt.BrushStyle.BDiagPattern)
        for outage in self._outages:  # over the frame, so a bar at "now" is not hidden by it
            rect = self.bar_rect(outage)
            painter.fillRect(rect, OUTAGE_COLOUR)
            if outage.ended_at is None:
                painter.fillRect(rect, hatch)
        painter.setPen(QPen(text_colour, 1))
        painter.drawText(
            QRectF(plot.left(), 0, plot.width(), plot.top()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            "Plex outages, last 30 days",
        )
        painter.end()

    def _paint_days(self, painter: QPainter, plot: QRectF, text_colour: QColor) -> None:
        """A faint line at each local midnight; a date under every 7th, counted back from today."""
        grid = QColor(text_colour)
        grid.setAlpha(40)
        label_box_width = self.fontMetrics().horizontalAdvance("00 Mmm") + 8
        midnight = local_midnight(self._now)
        day = 0
        while midnight - day * DAY > self._since:
            ts = midnight - day * DAY
            x = self.x_for(ts)
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            if day % 7 == 0:
                painter.setPen(QPen(text_colour, 1))
                left = min(max(0.0, x - label_box_width / 2), self.width() - label_box_width)
                box = QRectF(left, plot.bottom(), label_box_width, plot.top())
                label = "today" if day == 0 else local(ts).strftime("%d %b")
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
            day += 1
