"""Tiny real PNG and JPEG images built with the standard library, one per key."""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH = 32
HEIGHT = 18


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(key: str, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A valid RGB PNG whose pixels (and so bytes) depend on ``key``.

    The top half is a colour taken from the key's hash; the bottom half shows the hash's bits as
    vertical stripes, so two keys give visibly different images.
    """
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    base = digest[0:3]
    accent = bytes(255 - b for b in base)
    bits = int.from_bytes(digest[3:7], "big")
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type 0 (None) for each scanline
        for x in range(width):
            if y < height // 2:
                row += base
            else:
                row += accent if (bits >> (x % 32)) & 1 else base
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


# A 32x18 one-colour baseline JPEG (made here with ffmpeg's `color` source; no comment segment).
_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAgAAAQABAAD/2wBDAAgEBAQEBAUFBQUFBQYGBgYGBgYGBgYGBgYHBwcICAgH"
    "BwcGBgcHCAgICAkJCQgICAgJCQoKCgwMCwsODg4RERT/xABMAAEBAAAAAAAAAAAAAAAAAAAABwEB"
    "AQAAAAAAAAAAAAAAAAAAAAQQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAAR"
    "CAASACADASIAAhEAAxEA/9oADAMBAAIRAxEAPwCeAKUwAAAAAD//2Q=="
)
_JFIF_END = 20  # SOI (2 bytes) + the APP0 segment (2 + 16)


def jpeg_bytes(key: str) -> bytes:
    """A valid JPEG whose bytes depend on ``key``: one image with the key's hash in a comment
    (COM) segment after the JFIF header. Every key shows the same picture."""
    comment = hashlib.sha256(key.encode("utf-8")).hexdigest().encode("ascii")
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return _JPEG[:_JFIF_END] + segment + _JPEG[_JFIF_END:]


JPEG_TYPE = "image/jpeg"

# Stash answers a cover-less scene's screenshot URL with its default scene image, an SVG, status
# 200 (stashapp/stash internal/manager/running_streams.go, ServeScreenshot). This is our own SVG
# of the same kind, not Stash's file.
PLACEHOLDER_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 360">'
    b'<rect width="640" height="360" fill="#30404d"/>'
    b'<path d="M270 130l110 50-110 50z" fill="#8a9ba8"/></svg>'
)
SVG_TYPE = "image/svg+xml"
