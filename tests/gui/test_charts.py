"""The QPainter charts render known data to the right pixels, and explain themselves on hover."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPalette
from PySide6.QtWidgets import QApplication, QToolTip, QWidget
from pytestqt.qtbot import QtBot
from status_fakes import NOW

from engine.store.history import RunInterval
from engine.store.jobs import Outage
from gui.widgets.outage_timeline import (
    OUTAGE_COLOUR,
    OutageTimeline,
    outage_stats,
    stats_text,
    unknown_colour,
    up_colour,
)
from gui.widgets.state_header import COLOURS, HeaderState, StateBadge
from gui.widgets.throughput_chart import (
    BAR_COLOUR,
    MINUTES,
    ThroughputChart,
    axis_ticks,
    minute_buckets,
)

pytestmark = pytest.mark.gui

DAY = 86400.0
SINCE = NOW - 30 * DAY


def render(widget: QWidget, width: int = 600, height: int = 140) -> QImage:
    widget.resize(width, height)
    return widget.grab().toImage()


def count_colour(image: QImage, colour: QColor) -> int:
    target = colour.rgb()
    return sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).rgb() == target
    )


def column_has(image: QImage, x: int, colour: QColor) -> bool:
    return any(image.pixelColor(x, y).rgb() == colour.rgb() for y in range(image.height()))


# --- outage statistics ---------------------------------------------------------------------------


def test_stats_average_recovery_and_availability() -> None:
    outages = [
        Outage(1, NOW - 10 * DAY, NOW - 10 * DAY + 3600),
        Outage(2, NOW - 3 * DAY, NOW - 3 * DAY + 600),
    ]
    stats = outage_stats(outages, SINCE, NOW)
    assert stats.count == 2 and not stats.ongoing
    assert stats.mean_recovery == pytest.approx(2100)
    assert stats.downtime == pytest.approx(4200)
    assert stats.availability == pytest.approx(1 - 4200 / (30 * DAY))
    assert stats_text(stats) == (
        "Plex: 2 outages · average time to recover 35 min · availability 99.84 %"
    )


def test_stats_clip_to_the_window_and_count_an_ongoing_outage_until_now() -> None:
    outages = [
        Outage(1, SINCE - DAY, SINCE + 3600),  # started before the window
        Outage(2, NOW - 1800, None),  # still going on
    ]
    stats = outage_stats(outages, SINCE, NOW)
    assert stats.downtime == pytest.approx(3600 + 1800)
    assert stats.ongoing
    assert stats.mean_recovery == pytest.approx(DAY + 3600)  # only the ended one, in full
    assert stats_text(stats).endswith("an outage is ongoing")


def test_stats_never_count_overlapping_outages_twice() -> None:
    outages = [Outage(1, NOW - 1000, NOW - 400), Outage(2, NOW - 600, NOW - 100)]
    assert outage_stats(outages, SINCE, NOW).downtime == pytest.approx(900)


def test_no_outages_is_full_availability() -> None:
    stats = outage_stats([], SINCE, NOW)
    assert stats.availability == 1.0 and stats.mean_recovery is None
    assert stats_text(stats) == "Plex: no outages · availability 100 %"


def test_tiny_downtime_is_not_rounded_up_to_100_percent() -> None:
    stats = outage_stats([Outage(1, NOW - 1, NOW)], SINCE, NOW)
    assert "availability 99.99 %" in stats_text(stats)


# --- outage timeline -----------------------------------------------------------------------------


def test_timeline_draws_each_outage_where_it_happened(qtbot: QtBot) -> None:
    timeline = OutageTimeline()
    qtbot.addWidget(timeline)
    long_one = Outage(1, NOW - 20 * DAY, NOW - 19 * DAY)  # a whole day
    short_one = Outage(2, NOW - 5 * DAY, NOW - 5 * DAY + 60)  # one minute: still visible
    timeline.set_outages([long_one, short_one], SINCE, NOW)
    image = render(timeline)

    assert count_colour(image, up_colour(timeline.palette())) > 1000
    assert count_colour(image, OUTAGE_COLOUR) > 100
    for outage in (long_one, short_one):
        rect = timeline.bar_rect(outage)
        assert rect.width() >= 4
        assert column_has(image, int(rect.center().x()), OUTAGE_COLOUR)
    quiet_x = int(timeline.x_for(NOW - 12 * DAY))
    assert not column_has(image, quiet_x, OUTAGE_COLOUR)


def test_an_empty_timeline_has_no_outage_pixels(qtbot: QtBot) -> None:
    timeline = OutageTimeline()
    qtbot.addWidget(timeline)
    timeline.set_outages([], SINCE, NOW)
    image = render(timeline)
    assert count_colour(image, OUTAGE_COLOUR) == 0
    assert count_colour(image, up_colour(timeline.palette())) > 1000


def test_an_ongoing_outage_reaches_now_and_is_hatched(qtbot: QtBot) -> None:
    timeline = OutageTimeline()
    qtbot.addWidget(timeline)
    ongoing = Outage(1, NOW - 2 * DAY, None)
    timeline.set_outages([ongoing], SINCE, NOW)
    image = render(timeline)
    rect = timeline.bar_rect(ongoing)
    assert rect.right() == pytest.approx(timeline.plot_rect().right())
    hatch = OUTAGE_COLOUR.darker(160)
    assert count_colour(image, hatch) > 0 and count_colour(image, OUTAGE_COLOUR) > 0


def test_hovering_a_bar_tells_start_end_and_duration(qtbot: QtBot) -> None:
    timeline = OutageTimeline()
    qtbot.addWidget(timeline)
    outage = Outage(1, NOW - 10 * DAY, NOW - 10 * DAY + 5400)
    timeline.set_outages([outage], SINCE, NOW)
    timeline.resize(600, 140)
    on_bar = timeline.bar_rect(outage).center().toPoint()
    text = timeline.tooltip_at(on_bar)
    assert text is not None
    assert "Started: " in text and "Ended: " in text and "Duration: 1 h 30 min" in text
    assert timeline.tooltip_at(QPoint(int(timeline.x_for(NOW - 25 * DAY)), on_bar.y())) is None

    timeline.show()
    qtbot.waitExposed(timeline)
    event = QHelpEvent(QEvent.Type.ToolTip, on_bar, timeline.mapToGlobal(on_bar))
    QApplication.sendEvent(timeline, event)
    qtbot.waitUntil(lambda: QToolTip.text() == text)
    QToolTip.hideText()


def test_an_ongoing_outage_tooltip_says_so(qtbot: QtBot) -> None:
    timeline = OutageTimeline()
    qtbot.addWidget(timeline)
    timeline.set_outages([Outage(1, NOW - 600, None)], SINCE, NOW)
    timeline.resize(600, 140)
    x = timeline.plot_rect().right() - 1
    text = timeline.tooltip_at(QPoint(int(x), 50))
    assert text is not None and "still down" in text and "10 min so far" in text


# --- throughput chart ----------------------------------------------------------------------------


def test_buckets_cover_the_last_hour_with_zeros_filled() -> None:
    current = (NOW // 60) * 60
    buckets = minute_buckets([(current, 5), (current - 30 * 60, 2), (current - 2 * 3600, 9)], NOW)
    assert len(buckets) == MINUTES
    assert buckets[-1] == (current, 5)
    assert buckets[0][0] == current - 59 * 60
    assert dict(buckets)[current - 30 * 60] == 2
    assert sum(count for _, count in buckets) == 7  # the two-hour-old minute is left out


def test_throughput_bars_are_as_tall_as_their_counts(qtbot: QtBot) -> None:
    chart = ThroughputChart()
    qtbot.addWidget(chart)
    current = (NOW // 60) * 60
    chart.set_data([(current - 59 * 60, 10), (current - 30 * 60, 5), (current, 1)], NOW)
    image = render(chart, 600, 200)
    assert chart.total == 16 and chart.peak == 10

    def bar_height(index: int) -> int:
        x = int(chart.bar_slot(index).center().x())
        return sum(
            1 for y in range(image.height()) if image.pixelColor(x, y).rgb() == BAR_COLOUR.rgb()
        )

    full = chart.plot_rect().height()  # the axis' top is 10, the peak
    assert bar_height(0) == pytest.approx(full, abs=2)
    assert bar_height(29) == pytest.approx(full / 2, abs=2)
    assert bar_height(59) == pytest.approx(full / 10, abs=2)
    assert bar_height(10) == 0


def test_an_idle_hour_draws_no_bars(qtbot: QtBot) -> None:
    chart = ThroughputChart()
    qtbot.addWidget(chart)
    chart.set_data([], NOW)
    image = render(chart, 600, 200)
    assert count_colour(image, BAR_COLOUR) == 0
    assert image.pixelColor(0, 0).isValid()


def test_hovering_a_minute_tells_its_count(qtbot: QtBot) -> None:
    chart = ThroughputChart()
    qtbot.addWidget(chart)
    current = (NOW // 60) * 60
    chart.set_data([(current, 3)], NOW)
    chart.resize(600, 200)
    last = chart.bar_slot(59).center().toPoint()
    text = chart.tooltip_at(last)
    assert text is not None and text.endswith(": 3 scenes")
    assert chart.tooltip_at(QPoint(1, 1)) is None  # outside the plot


# --- state badge ---------------------------------------------------------------------------------


def test_each_state_has_its_own_badge(qtbot: QtBot) -> None:
    badge = StateBadge()
    qtbot.addWidget(badge)
    images = {}
    for state in HeaderState:
        badge.set_state(state)
        image = render(badge, 48, 48)
        images[state] = image
        assert count_colour(image, COLOURS[state]) > 100, state
    # Grey states share a colour, so their shapes (and glyphs) must tell them apart.
    states = list(HeaderState)
    for i, a in enumerate(states):
        for b in states[i + 1 :]:
            if {a, b} != {HeaderState.UNKNOWN, HeaderState.UNCONFIGURED}:
                assert images[a] != images[b], (a, b)


# --- history that tells the truth ---------------------------------------------------------------


def test_a_new_install_does_not_claim_a_month_of_health(qtbot: QtBot) -> None:
    timeline = OutageTimeline()
    qtbot.addWidget(timeline)
    runs = [RunInterval(NOW - 300, NOW)]  # installed five minutes ago
    timeline.set_outages([], SINCE, NOW, runs=runs)
    stats = timeline.stats()
    assert stats.watched == pytest.approx(300)
    assert stats_text(stats) == (
        "Plex: no outages · availability 100 % (running 5 min of the last 30 days)"
    )
    image = render(timeline)
    unknown = count_colour(image, unknown_colour(timeline.palette()))
    up = count_colour(image, up_colour(timeline.palette()))
    assert unknown > 20 * up  # almost all of the band says "not running"
    far_back = timeline.row_rect("Plex").center().toPoint()
    far_back.setX(int(timeline.x_for(NOW - 20 * DAY)))
    assert timeline.tooltip_at(far_back) == "The app was not running"


def test_downtime_counts_only_while_running() -> None:
    runs = [RunInterval(NOW - 2 * DAY, NOW - DAY)]
    outages = [Outage(1, NOW - 1.5 * DAY, NOW - 0.5 * DAY)]  # half of it while not running
    stats = outage_stats(outages, SINCE, NOW, runs)
    assert stats.downtime == pytest.approx(0.5 * DAY)
    assert stats.availability == pytest.approx(0.5)


def test_stash_outages_have_their_own_row(qtbot: QtBot) -> None:
    timeline = OutageTimeline()
    qtbot.addWidget(timeline)
    stash = Outage(1, NOW - 4 * DAY, NOW - 3 * DAY)
    timeline.set_outages([], SINCE, NOW, stash_outages=[stash])
    image = render(timeline)
    rect = timeline.bar_rect(stash, "Stash")
    assert rect.top() >= timeline.row_rect("Stash").top()
    assert image.pixelColor(rect.center().toPoint()).rgb() == OUTAGE_COLOUR.rgb()
    plex_point = QPoint(int(rect.center().x()), int(timeline.row_rect("Plex").center().y()))
    assert image.pixelColor(plex_point).rgb() != OUTAGE_COLOUR.rgb()
    tip = timeline.tooltip_at(rect.center().toPoint())
    assert tip is not None and tip.startswith("Stash outage")


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, QColor("#202124")),
        (QPalette.ColorRole.Base, QColor("#151515")),
        (QPalette.ColorRole.WindowText, QColor("#e8e8e8")),
        (QPalette.ColorRole.Text, QColor("#e8e8e8")),
    ):
        palette.setColor(role, colour)
    return palette


def test_the_timeline_is_legible_in_a_dark_theme(qtbot: QtBot) -> None:
    timeline = OutageTimeline()
    qtbot.addWidget(timeline)
    timeline.setPalette(dark_palette())
    timeline.set_outages([], SINCE, NOW)
    text = timeline.palette().color(QPalette.ColorRole.WindowText)
    band = up_colour(timeline.palette())
    assert text.lightness() - band.lightness() > 120  # light text stays readable on the band
    image = render(timeline)
    assert count_colour(image, band) > 1000


def test_throughput_has_a_labelled_y_axis(qtbot: QtBot) -> None:
    chart = ThroughputChart()
    qtbot.addWidget(chart)
    current = (NOW // 60) * 60
    chart.set_data([(current, 7)], NOW)
    assert axis_ticks(chart.peak) == [0, 5, 10]
    assert axis_ticks(1) == [0, 1] and axis_ticks(30) == [0, 25, 50]
    image = render(chart, 600, 200)
    plot = chart.plot_rect()
    assert plot.left() >= chart.fontMetrics().horizontalAdvance("10")
    background = image.pixelColor(0, image.height() // 2).lightness()
    gutter_ink = sum(
        1
        for y in range(int(plot.top()) - 8, int(plot.bottom()) + 8)
        for x in range(int(plot.left()) - 2)
        if abs(image.pixelColor(x, y).lightness() - background) > 60
    )
    assert gutter_ink > 20  # the tick labels are drawn left of the plot
    bar = int(chart.bar_slot(59).center().x())
    top_of_bar = min(
        y for y in range(image.height()) if image.pixelColor(bar, y).rgb() == BAR_COLOUR.rgb()
    )
    assert top_of_bar == pytest.approx(chart.y_for(7), abs=2)  # 7 of 10 on the axis
