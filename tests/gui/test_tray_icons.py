"""Every state has its own icon (pixels differ, colour family right) and its own words."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot
from tray_fakes import NOW, make_status

from engine.breaker import CircuitState
from engine.events import Progress
from gui.icons import SIZES, IconCache, IconStyle, render_state_image, style_from_env
from gui.presentation import (
    TrayState,
    format_duration,
    needs_countdown,
    status_line,
    tooltip_text,
    tray_state,
)


def pixels(state: TrayState, size: int = 32, style: IconStyle = IconStyle.COLOUR) -> bytes:
    image = render_state_image(state, size, style)
    return bytes(image.constBits())


@pytest.mark.parametrize("style", list(IconStyle))
def test_each_state_draws_a_different_icon(qtbot: QtBot, style: IconStyle) -> None:
    for size in SIZES:
        images = {state: pixels(state, size, style) for state in TrayState}
        for a, b in itertools.combinations(TrayState, 2):
            assert images[a] != images[b], f"{a} and {b} look the same at {size} px ({style})"


def _dominant_hue(state: TrayState) -> tuple[int, int]:
    """Hue and saturation of the most common opaque colour in the 64 px icon."""
    image = render_state_image(state, 64)
    counts: dict[tuple[int, int, int], int] = {}
    for y in range(0, 64, 2):
        for x in range(0, 64, 2):
            colour = image.pixelColor(x, y)
            if colour.alpha() == 255:
                key = (colour.red(), colour.green(), colour.blue())
                counts[key] = counts.get(key, 0) + 1
    red, green, blue = max(counts, key=counts.__getitem__)
    colour = QColor(red, green, blue)
    return colour.hsvHue(), colour.hsvSaturation()


def test_colours_follow_the_breaker_state(qtbot: QtBot) -> None:
    green, _ = _dominant_hue(TrayState.CLOSED)
    amber, _ = _dominant_hue(TrayState.HALF_OPEN)
    red, _ = _dominant_hue(TrayState.OPEN)
    _, grey_saturation = _dominant_hue(TrayState.PAUSED)
    assert 90 <= green <= 160
    assert 30 <= amber <= 55
    assert red <= 15 or red >= 345
    assert grey_saturation < 60


def test_icons_are_rendered_once_per_state_at_every_size(qtbot: QtBot) -> None:
    cache = IconCache()
    icon = cache.icon(TrayState.OPEN)
    assert cache.icon(TrayState.OPEN) is icon
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert sizes == {(s, s) for s in SIZES}
    assert max(SIZES) <= 64  # bigger pixmaps choke GNOME's AppIndicator


def test_icon_edges_have_a_dark_rim_and_a_light_halo(qtbot: QtBot) -> None:
    image = render_state_image(TrayState.HALF_OPEN, 64)
    row = [image.pixelColor(x, 32) for x in range(0, 10)]
    assert any(c.alpha() > 0 and c.lightness() > 200 for c in row)  # halo for dark panels
    assert any(c.alpha() > 150 and c.lightness() < 80 for c in row)  # rim for light panels


def test_style_from_env() -> None:
    assert style_from_env(None) is IconStyle.COLOUR
    assert style_from_env("mono-dark") is IconStyle.MONO_DARK
    assert style_from_env("nonsense") is IconStyle.COLOUR


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({}, TrayState.CLOSED),
        ({"breaker_state": CircuitState.HALF_OPEN}, TrayState.HALF_OPEN),
        ({"breaker_state": CircuitState.OPEN}, TrayState.OPEN),
        ({"paused": True, "breaker_state": CircuitState.OPEN}, TrayState.PAUSED),
        ({"configured": False}, TrayState.UNCONFIGURED),
        ({"auth_error": "Plex rejected the token", "paused": True}, TrayState.AUTH_FAILED),
    ],
)
def test_tray_state_from_a_snapshot(changes: dict[str, object], state: TrayState) -> None:
    assert tray_state(make_status(**changes)) is state


def test_no_snapshot_yet_reads_as_not_set_up() -> None:
    assert tray_state(None) is TrayState.UNCONFIGURED


def test_an_open_breaker_counts_down_in_words() -> None:
    status = make_status(breaker_state=CircuitState.OPEN, retry_at=NOW + 133, pending=2, dlq=3)
    assert needs_countdown(status)
    assert status_line(status, NOW) == "Plex is unreachable, retrying in 2 m 13 s"
    assert status_line(status, NOW + 200) == "Plex is unreachable, trying again now"
    text = tooltip_text(status, NOW)
    assert "retrying in 2 m 13 s" in text
    assert "2 queued · 3 failed scenes" in text
    assert "Last sync: never" in text


def test_tooltip_words_for_other_states() -> None:
    assert "paused until restart" in status_line(make_status(paused=True), NOW)
    assert status_line(make_status(auth_error="Plex rejected the token"), NOW) == (
        "Plex rejected the token"
    )
    syncing = make_status(progress=Progress(done=5, total=40, rate=2.0), last_sync_at=NOW - 60)
    assert status_line(syncing, NOW) == "Syncing 5 of 40"
    assert "Last sync: " in tooltip_text(syncing, NOW)
    assert not needs_countdown(syncing)
    first = replace(syncing, first_sync="first sync: 40 item(s) in libraries Movies (40)")
    assert status_line(first, NOW) == (
        "Syncing 5 of 40 (first sync: 40 item(s) in libraries Movies (40))"
    )


def test_durations_are_short() -> None:
    assert format_duration(4.6) == "5 s"
    assert format_duration(61) == "1 m 01 s"
    assert format_duration(3 * 3600 + 5 * 60) == "3 h 05 m"
    assert format_duration(-3) == "0 s"
