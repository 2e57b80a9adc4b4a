"""The end-to-end tier's own helpers, without a display: colour classes, image and tree parsing.

The classifier is checked against the app's real icons (rendered offscreen at the tray's size
over trayer's grey), so a change of palette that the e2e tests could no longer tell apart fails
here, in a second, rather than as a timeout there.
"""

from __future__ import annotations

import zlib

import pytest
from screen_pixels import Image, Rect, classify, parse_ppm
from session_bus import parse_tooltip
from tray_harness import Secrets
from x11_desktop import parse_tree

PANEL_GREY = (220, 218, 213)


@pytest.mark.gui
@pytest.mark.parametrize(
    ("state", "colour"),
    [
        ("closed", "green"),
        ("half_open", "amber"),
        ("open", "red"),
        ("paused", "grey"),
        ("unconfigured", "grey"),
        ("auth_failed", "purple"),
        ("stash_problem", "blue"),
        ("engine_error", "red"),
    ],
)
@pytest.mark.parametrize("size", [16, 22, 24])
def test_classify_tells_every_icon_apart(qapp: object, state: str, colour: str, size: int) -> None:
    from gui.icons import render_state_image
    from gui.presentation import TrayState

    image = render_state_image(TrayState(state), size)
    pixels = []
    for y in range(size):
        for x in range(size):
            c = image.pixelColor(x, y)
            a = c.alphaF()
            pixels.append(
                tuple(
                    round(fg * a + bg * (1 - a))
                    for fg, bg in zip((c.red(), c.green(), c.blue()), PANEL_GREY, strict=True)
                )
            )
    pixels += [PANEL_GREY] * (size * 8)  # the panel around the icon in its tray window
    assert classify(pixels) == colour


def test_classify_needs_one_dominant_hue() -> None:
    assert classify([(255, 0, 0)] * 50 + [(0, 200, 0)] * 50) == "mixed"
    assert classify([(128, 128, 128)] * 500) == "grey"
    assert classify([(230, 160, 8)] * 40) == "amber"


def test_ppm_parses_and_png_round_trips() -> None:
    pixels = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    image = parse_ppm(b"P6\n# made by a test\n2 2\n255\n" + pixels)
    assert (image.width, image.height) == (2, 2)
    assert image.pixel(1, 0) == (0, 255, 0) and image.pixel(1, 1) == (10, 20, 30)
    assert image.crop(Rect(1, 0, 1, 2)).pixels == bytes([0, 255, 0, 10, 20, 30])
    assert image.scaled(2).width == 4
    png = image.png()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    idat = png.index(b"IDAT")
    length = int.from_bytes(png[idat - 4 : idat], "big")
    raw = zlib.decompress(png[idat + 4 : idat + 4 + length])
    assert raw == b"\x00" + pixels[:6] + b"\x00" + pixels[6:]
    with pytest.raises(ValueError, match="unsupported"):
        parse_ppm(b"P6 1 1 65535\n" + b"\x00" * 6)
    assert Image(1, 1, b"\x01\x02\x03").region(Rect(-5, -5, 20, 20)) == [(1, 2, 3)]


TREE = """
xwininfo: Window id: 0x50d (the root window) (has no name)

  Root window id: 0x50d (the root window) (has no name)
  Parent window id: 0x0 (none)
     3 children:
     0x400009 "PlexSync Tray": ()  1x1+0+0  +0+0
     0x200003 "panel": ("panel" "trayer")  24x32+776+0  +776+0
        2 children:
        0x200026 (has no name): ()  22x30+1+1  +777+1
           1 child:
           0x400007 "PlexSync Tray": ("plexsync-tray" "plexsync-tray")  22x30+0+0  +777+1
     0x20001f "trayer": ()  10x10+-100+-100  +-100+-100
"""


def test_tree_gives_absolute_geometry_and_nesting() -> None:
    windows = {w.wid: w for w in parse_tree(TREE)}
    panel, icon = windows[0x200003], windows[0x400007]
    assert (panel.instance, panel.klass, panel.depth) == ("panel", "trayer", 1)
    assert icon.rect == Rect(777, 1, 22, 30) and icon.depth == 3
    assert panel.rect.contains(icon.rect) and not icon.rect.contains(panel.rect)
    assert windows[0x20001F].rect.x == -100 and windows[0x200026].name == ""


def test_tooltip_parses_gdbus_output() -> None:
    text = "(<('', @a(iiay) [], 'PlexSync Tray\\nPlex is in step \\u00b7 it\\'s ok', '')>,)\n"
    assert parse_tooltip(text) == "PlexSync Tray\nPlex is in step · it's ok"


def test_secrets_are_fresh_and_found_anywhere_in_a_text() -> None:
    creds, other = Secrets(), Secrets()
    assert creds.token != other.token and creds.api_key != other.api_key
    text = f"GET /library?X-Plex-Token={creds.token}&x=1\nApiKey: {creds.api_key}"
    assert creds.leaked_in(text) == ["the Plex token", "the Stash API key"]
    assert creds.leaked_in("X-Plex-Token=********") == []
