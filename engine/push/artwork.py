"""Artwork made from a scene's screenshot (issue 24, point 5): a 2:3 poster, locally.

A screenshot is wide (16:9 mostly); Plex shows movie posters at 2:3 and crops a wide one to its
middle. The portrait poster keeps the whole screenshot: scaled to the poster's width, centred on
a blurred, darkened fill of itself, the way the Plex provider for Stash builds its poster. Made
with Pillow, once per changed screenshot (the caller compares hashes before calling).
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageEnhance, ImageFilter

POSTER_WIDTH = 1000  # px; Plex's own posters are 1000 x 1500 at most
RATIO = 1.5  # height / width of a movie poster
SHAPES = ("as_is", "portrait")


def poster_digest(data: bytes, shape: str) -> str:
    """What identifies the poster we send: the screenshot's bytes and the shape made of them
    (as is: the plain hash, as every record before issue 24 holds it)."""
    if shape == "as_is":
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha256(shape.encode() + b"\0" + data).hexdigest()


def poster_bytes(data: bytes, shape: str) -> bytes:
    """The poster to upload for a screenshot in the chosen shape."""
    return data if shape == "as_is" else portrait(data)


def portrait(data: bytes) -> bytes:
    """A 2:3 JPEG: the screenshot across the width, centred on a blurred fill of itself."""
    with Image.open(io.BytesIO(data)) as opened:
        shot = opened.convert("RGB")
    width = min(POSTER_WIDTH, max(shot.width, 200))
    height = round(width * RATIO)
    fill_scale = max(width / shot.width, height / shot.height)
    fill = shot.resize(
        (max(1, round(shot.width * fill_scale)), max(1, round(shot.height * fill_scale))),
        Image.Resampling.LANCZOS,
    )
    left, top = (fill.width - width) // 2, (fill.height - height) // 2
    fill = fill.crop((left, top, left + width, top + height))
    fill = fill.filter(ImageFilter.GaussianBlur(radius=width / 25))
    fill = ImageEnhance.Brightness(fill).enhance(0.6)
    scale = width / shot.width
    front = shot.resize((width, max(1, round(shot.height * scale))), Image.Resampling.LANCZOS)
    fill.paste(front, (0, (height - front.height) // 2))
    out = io.BytesIO()
    fill.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()
