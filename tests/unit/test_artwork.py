"""The 2:3 poster made from a screenshot (issue 24, point 5), with Pillow."""

from __future__ import annotations

import hashlib
import io

from PIL import Image

from engine.push.artwork import portrait, poster_bytes, poster_digest


def screenshot(width: int = 640, height: int = 360) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 200, 30), (width // 4, height // 4, width // 2, height // 2))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_a_wide_screenshot_becomes_a_2_by_3_poster_that_keeps_all_of_it() -> None:
    poster = Image.open(io.BytesIO(portrait(screenshot())))
    assert poster.format == "JPEG" and poster.size == (640, 960)
    middle = poster.getpixel((320, 480))
    top = poster.getpixel((320, 40))
    assert isinstance(middle, tuple) and isinstance(top, tuple)
    assert middle[0] > 150  # the screenshot itself, across the middle
    assert top[0] < middle[0]  # the darkened, blurred fill above it


def test_a_large_screenshot_is_capped_and_a_tiny_one_grown() -> None:
    assert Image.open(io.BytesIO(portrait(screenshot(3840, 2160)))).size == (1000, 1500)
    assert Image.open(io.BytesIO(portrait(screenshot(80, 45)))).size == (200, 300)


def test_the_same_screenshot_makes_the_same_poster_and_the_hash_names_the_shape() -> None:
    shot = screenshot()
    assert portrait(shot) == portrait(shot)
    assert poster_digest(shot, "as_is") == hashlib.sha256(shot).hexdigest()  # as records hold it
    assert poster_digest(shot, "portrait") != poster_digest(shot, "as_is")
    assert poster_bytes(shot, "as_is") is shot
