"""Pixels for the end-to-end tier: screenshots as RGB images, PNG out, icon colour classes.

`import -window root -depth 8 ppm:-` gives a binary PPM that `parse_ppm` reads without any
imaging library; `Image.png()` writes the PNGs for failures and docs with zlib alone. `classify`
names the dominant hue of an icon's pixels, tolerant of anti-aliasing, rim, halo and emblem.
"""

from __future__ import annotations

import colorsys
import re
import struct
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2

    def contains(self, other: Rect) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.x + other.width <= self.x + self.width
            and other.y + other.height <= self.y + self.height
        )

    def grown(self, margin: int) -> Rect:
        return Rect(
            self.x - margin, self.y - margin, self.width + 2 * margin, self.height + 2 * margin
        )


@dataclass(frozen=True)
class Image:
    """An RGB picture: `pixels` holds 3 bytes per pixel, row by row."""

    width: int
    height: int
    pixels: bytes

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        at = (y * self.width + x) * 3
        r, g, b = self.pixels[at : at + 3]
        return r, g, b

    def region(self, rect: Rect) -> list[tuple[int, int, int]]:
        x0, y0 = max(rect.x, 0), max(rect.y, 0)
        x1 = min(rect.x + rect.width, self.width)
        y1 = min(rect.y + rect.height, self.height)
        return [self.pixel(x, y) for y in range(y0, y1) for x in range(x0, x1)]

    def crop(self, rect: Rect) -> Image:
        x0, y0 = max(rect.x, 0), max(rect.y, 0)
        x1 = min(rect.x + rect.width, self.width)
        y1 = min(rect.y + rect.height, self.height)
        rows = [
            self.pixels[(y * self.width + x0) * 3 : (y * self.width + x1) * 3]
            for y in range(y0, y1)
        ]
        return Image(x1 - x0, y1 - y0, b"".join(rows))

    def scaled(self, factor: int) -> Image:
        """Bigger by a whole factor, pixel for pixel (for small crops in the docs)."""
        rows = []
        for y in range(self.height):
            row = self.pixels[y * self.width * 3 : (y + 1) * self.width * 3]
            wide = b"".join(row[x : x + 3] * factor for x in range(0, len(row), 3))
            rows.extend([wide] * factor)
        return Image(self.width * factor, self.height * factor, b"".join(rows))

    def png(self) -> bytes:
        """The picture as PNG (8-bit RGB, no filtering)."""
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + self.pixels[y * stride : (y + 1) * stride] for y in range(self.height)
        )

        def chunk(kind: bytes, body: bytes) -> bytes:
            crc = zlib.crc32(kind + body) & 0xFFFFFFFF
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"".join(
            [
                b"\x89PNG\r\n\x1a\n",
                chunk(b"IHDR", header),
                chunk(b"IDAT", zlib.compress(raw, 9)),
                chunk(b"IEND", b""),
            ]
        )

    def save_png(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.png())


def parse_ppm(data: bytes) -> Image:
    """A binary PPM (P6, maxval 255), as `import ... ppm:-` writes it."""
    fields: list[bytes] = []
    at = 0
    while len(fields) < 4:
        match = re.compile(rb"\s*(#[^\n]*\n\s*)*(\S+)").match(data, at)
        if match is None:
            raise ValueError("not a PPM image")
        fields.append(match.group(2))
        at = match.end()
    magic, width, height, maxval = fields
    if magic != b"P6" or maxval != b"255":
        raise ValueError(f"unsupported PPM: {magic!r} maxval {maxval!r}")
    w, h = int(width), int(height)
    pixels = data[at + 1 : at + 1 + w * h * 3]
    if len(pixels) != w * h * 3:
        raise ValueError("truncated PPM")
    return Image(w, h, pixels)


# Hue ranges in degrees, for pixels saturated and bright enough to be icon paint.
HUES: tuple[tuple[str, float, float], ...] = (
    ("red", 345.0, 360.0),
    ("red", 0.0, 20.0),
    ("amber", 28.0, 62.0),
    ("green", 85.0, 170.0),
    ("blue", 200.0, 250.0),
    ("purple", 270.0, 330.0),
)
MIN_SATURATION = 0.45
MIN_VALUE = 0.35
MIN_SHARE = 0.6  # of the saturated pixels


def classify(pixels: Sequence[tuple[int, int, int]], *, min_pixels: int = 12) -> str:
    """`green`, `amber`, `red`, `blue`, `purple`, `grey` (no colour at all) or `mixed`.

    Tolerant by design: the icon is anti-aliased, has a dark rim and a light halo and a white
    emblem, so only clearly coloured pixels vote, and one hue must hold most of the votes.
    """
    votes: Counter[str] = Counter()
    for r, g, b in pixels:
        h, s, v = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
        if s < MIN_SATURATION or v < MIN_VALUE:
            continue
        hue = h * 360.0
        name = next((n for n, lo, hi in HUES if lo <= hue < hi), "other")
        votes[name] += 1
    total = sum(votes.values())
    if total < min_pixels:
        return "grey"
    name, count = votes.most_common(1)[0]
    return name if count >= MIN_SHARE * total and name != "other" else "mixed"
