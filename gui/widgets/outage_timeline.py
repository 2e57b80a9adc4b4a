"""Outage history: the last 30 days as two bands (Plex, Stash), each outage a red bar.

Only time the app was running counts: the rest of the band is drawn as "not running" (unknown),
and availability is taken over the running time alone, so a new install does not claim a month
of health. Hovering a bar shows when the outage started and ended and how long it lasted. An
outage still going on reaches "now" and is hatched. Colours come from the palette, so the band
stays legible in a dark theme.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.store.history import RunInterval
from engine.store.jobs import Outage
from gui.timefmt import DAY, format_datetime, format_duration, local, local_midnight
from gui.translations import fill, translate_n
from gui.widgets.chart_base import Chart

logger = logging.getLogger(__name__)

OUTAGE_COLOUR = QColor("#d0342c")
GREEN = QColor("#2e9e4f")
MIN_BAR_WIDTH = 4.0  # a one-minute outage in a 30-day band must still be visible and hoverable
SERVICES = ("Plex", "Stash")


def tr(text: str) -> str:
    return QCoreApplication.translate("OutageTimeline", text)


def blend(base: QColor, tint: QColor, share: float) -> QColor:
    """`tint` laid over `base` at `share` (0..1)."""
    mix = [
        round(a * (1 - share) + b * share)
        for a, b in zip(
            (base.red(), base.green(), base.blue()),
            (tint.red(), tint.green(), tint.blue()),
            strict=True,
        )
    ]
    return QColor(*mix)


def up_colour(palette: QPalette) -> QColor:
    """Running and up: a green tint of the palette's base, light or dark with the theme."""
    return blend(palette.color(QPalette.ColorRole.Base), GREEN, 0.3)


def unknown_colour(palette: QPalette) -> QColor:
    """Not running (nothing is known): the palette's window colour, a shade off the base."""
    return palette.color(QPalette.ColorRole.Window)


@dataclass(frozen=True)
class OutageStats:
    count: int
    downtime: float  # seconds inside the window, while running
    mean_recovery: float | None  # over the outages that ended; None when none has
    availability: float  # 0..1 over the running time
    ongoing: bool
    watched: float  # seconds of the window the app was running


def merge(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping spans merged, sorted, empty ones dropped."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def overlap(spans: Sequence[tuple[float, float]], others: Sequence[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, d) - max(a, c)) for a, b in spans for c, d in others)


def outage_stats(
    outages: Sequence[Outage],
    since: float,
    now: float,
    runs: Sequence[RunInterval] | None = None,
) -> OutageStats:
    """Downtime, average time to recover and availability over the running time in [since, now].

    `runs` None means the whole window was watched (for callers without run records)."""
    watched_spans = merge(
        [(since, now)]
        if runs is None
        else [(max(r.started_at, since), min(r.last_seen_at, now)) for r in runs]
    )
    down = merge(
        [
            (max(o.started_at, since), min(now if o.ended_at is None else o.ended_at, now))
            for o in outages
        ]
    )
    downtime = overlap(down, watched_spans)
    watched = sum(end - start for start, end in watched_spans)
    durations = [d for d in (o.duration for o in outages) if d is not None]
    return OutageStats(
        count=len(outages),
        downtime=downtime,
        mean_recovery=sum(durations) / len(durations) if durations else None,
        availability=1.0 if watched <= 0 else max(0.0, 1.0 - downtime / watched),
        ongoing=any(o.ended_at is None for o in outages),
        watched=watched,
    )


def format_availability(stats: OutageStats) -> str:
    percent = stats.availability * 100
    if stats.downtime > 0:
        percent = min(percent, 99.99)  # never round real downtime up to a perfect 100 %
    return f"{percent:.2f} %"


def outage_count(n: int) -> str:
    return translate_n("OutageTimeline", "1 outage", "%n outages", n)


def stats_text(stats: OutageStats, days: int = 30, service: str = "Plex") -> str:
    """One line under the timeline; it says how much of the window the app actually watched."""
    window = days * DAY
    if stats.watched <= 0:
        return translate_n(
            "OutageTimeline",
            "No history yet: the app has not been running in the last day",
            "No history yet: the app has not been running in the last %n days",
            days,
        )
    watched = (
        ""
        if stats.watched >= window - 60
        else fill(
            translate_n(
                "OutageTimeline",
                " (running %1 of the last day)",
                " (running %1 of the last %n days)",
                days,
            ),
            format_duration(stats.watched),
        )
    )
    if stats.count == 0:
        return fill(tr("%1: %2"), service, tr("no outages · availability 100 %") + watched)
    parts = [fill(tr("%1: %2"), service, outage_count(stats.count))]
    if stats.mean_recovery is not None:
        parts.append(
            tr("average time to recover %1").replace("%1", format_duration(stats.mean_recovery))
        )
    parts.append(tr("availability %1").replace("%1", format_availability(stats)) + watched)
    if stats.ongoing:
        parts.append(tr("an outage is ongoing"))
    return " · ".join(parts)


def outage_tooltip(outage: Outage, now: float, service: str = "Plex") -> str:
    if outage.ended_at is None:
        ended = tr("still down")
        duration = tr("%1 so far").replace("%1", format_duration(now - outage.started_at))
    else:
        ended = format_datetime(outage.ended_at)
        duration = format_duration(outage.ended_at - outage.started_at)
    return (
        tr("%1 outage").replace("%1", service)
        + "\n"
        + tr("Started: %1").replace("%1", format_datetime(outage.started_at))
        + "\n"
        + tr("Ended: %1").replace("%1", ended)
        + "\n"
        + tr("Duration: %1").replace("%1", duration)
    )


class OutageTimeline(Chart):
    """The last `days` days as one band per service with a bar per outage."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(tr("Outage timeline"))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self._rows: dict[str, tuple[Outage, ...]] = dict.fromkeys(SERVICES, ())
        self._runs: tuple[RunInterval, ...] | None = None
        self._since = 0.0
        self._now = DAY

    @property
    def outages(self) -> tuple[Outage, ...]:
        return self._rows["Plex"]

    @property
    def stash_outages(self) -> tuple[Outage, ...]:
        return self._rows["Stash"]

    def set_outages(
        self,
        outages: Sequence[Outage],
        since: float,
        now: float,
        *,
        stash_outages: Sequence[Outage] = (),
        runs: Sequence[RunInterval] | None = None,
    ) -> None:
        self._rows = {"Plex": tuple(outages), "Stash": tuple(stash_outages)}
        self._runs = None if runs is None else tuple(runs)
        self._since, self._now = since, max(now, since + 1)
        self.setAccessibleDescription(
            "\n".join(stats_text(self.stats(name), service=name) for name in SERVICES)
        )
        self.update()

    def stats(self, service: str = "Plex") -> OutageStats:
        return outage_stats(self._rows[service], self._since, self._now, self._runs)

    # --- geometry ------------------------------------------------------------------------------

    def label_width(self) -> float:
        return float(max(self.fontMetrics().horizontalAdvance(name) for name in SERVICES) + 8)

    def band_rect(self) -> QRectF:
        """Both rows together: the plot minus a gutter for the service names."""
        plot = self.plot_rect()
        return plot.adjusted(self.label_width(), 0, 0, 0)

    def row_rect(self, service: str) -> QRectF:
        band = self.band_rect()
        half = band.height() / len(SERVICES)
        return QRectF(band.left(), band.top() + SERVICES.index(service) * half, band.width(), half)

    def x_for(self, ts: float) -> float:
        band = self.band_rect()
        share = (ts - self._since) / (self._now - self._since)
        return band.left() + min(1.0, max(0.0, share)) * band.width()

    def bar_rect(self, outage: Outage, service: str = "Plex") -> QRectF:
        row = self.row_rect(service)
        end = self._now if outage.ended_at is None else outage.ended_at
        left, right = self.x_for(outage.started_at), self.x_for(end)
        width = max(MIN_BAR_WIDTH, right - left)
        left = min(left, row.right() - width)
        return QRectF(left, row.top(), width, row.height())

    def outage_at(self, x: float, service: str = "Plex") -> Outage | None:
        """The outage drawn at x (the nearest one when bars are within a few pixels)."""
        best: tuple[float, Outage] | None = None
        for outage in self._rows[service]:
            rect = self.bar_rect(outage, service)
            distance = (
                0.0
                if rect.left() <= x <= rect.right()
                else min(abs(x - rect.left()), abs(x - rect.right()))
            )
            if distance <= 2 and (best is None or distance < best[0]):
                best = (distance, outage)
        return None if best is None else best[1]

    def tooltip_at(self, pos: QPoint) -> str | None:
        for service in SERVICES:
            if self.row_rect(service).adjusted(-2, 0, 2, 0).contains(QPointF(pos)):
                outage = self.outage_at(pos.x(), service)
                if outage is not None:
                    return outage_tooltip(outage, self._now, service)
                return None if self._watched_at(pos.x()) else tr("The app was not running")
        return None

    def _watched_at(self, x: float) -> bool:
        if self._runs is None:
            return True
        return any(
            self.x_for(r.started_at) - 1 <= x <= self.x_for(r.last_seen_at) + 1 for r in self._runs
        )

    # --- painting ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        palette = self.palette()
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        band = self.band_rect()
        self._paint_watched(painter, band, palette)
        self._paint_days(painter, band, text_colour)
        painter.setPen(QPen(text_colour, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for service in SERVICES:
            row = self.row_rect(service)
            painter.drawRect(row)
            painter.drawText(
                QRectF(0, row.top(), band.left() - 4, row.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                service,
            )
        hatch = QBrush(OUTAGE_COLOUR.darker(160), Qt.BrushStyle.BDiagPattern)
        for service in SERVICES:  # over the frame, so a bar at "now" is not hidden by it
            for outage in self._rows[service]:
                rect = self.bar_rect(outage, service).adjusted(0, 1, 0, -1)
                painter.fillRect(rect, OUTAGE_COLOUR)
                if outage.ended_at is None:
                    painter.fillRect(rect, hatch)
        painter.setPen(QPen(text_colour, 1))
        painter.drawText(
            QRectF(band.left(), 0, band.width(), band.top()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            tr("Outages, last 30 days (grey: the app was not running)"),
        )
        painter.end()

    def _paint_watched(self, painter: QPainter, band: QRectF, palette: QPalette) -> None:
        """Unknown time in the window colour, running time in the palette's green tint."""
        painter.fillRect(band, unknown_colour(palette))
        spans = (
            [(self._since, self._now)]
            if self._runs is None
            else [(r.started_at, r.last_seen_at) for r in self._runs]
        )
        for start, end in spans:
            left, right = self.x_for(start), self.x_for(end)
            if right > left:
                painter.fillRect(
                    QRectF(left, band.top(), right - left, band.height()), up_colour(palette)
                )

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
                label = tr("today") if day == 0 else local(ts).strftime("%d %b")
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
            day += 1
