"""Tray icons drawn with QPainter: one colour and one shape or emblem per state.

Colour alone fails colour-blind users, so every state also has its own emblem (tick, half disc,
cross, pause bars, dots, "!") and the problems that are not Plex's breaker their own silhouette:
a triangle for a rejected sign-in, a blue diamond for Stash, a dark red octagon ("stop") for a
broken engine. Each icon gets
a thin dark rim and a faint light halo, so it reads on light and on dark panels alike. Icons are
rendered once per state and size, then cached; the tray sets one only when the state changes.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPainterPath, QPen, QPixmap

from gui.presentation import TrayState

SIZES = (16, 22, 24, 32, 48, 64)


class IconStyle(StrEnum):
    """COLOUR everywhere by default; MONO_* draw one ink colour for users who want it."""

    COLOUR = "colour"
    MONO_DARK = "mono-dark"  # dark ink, for light panels
    MONO_LIGHT = "mono-light"  # light ink, for dark panels


@dataclass(frozen=True)
class StateLook:
    fill: str
    silhouette: str  # "disc", "ring", "triangle", "diamond" or "octagon"
    emblem: str  # "check", "half", "cross", "pause", "dots", "bang"


LOOKS: dict[TrayState, StateLook] = {
    TrayState.CLOSED: StateLook("#2E9D5B", "disc", "check"),
    TrayState.HALF_OPEN: StateLook("#E3A008", "disc", "half"),
    TrayState.OPEN: StateLook("#D93A2B", "disc", "cross"),
    TrayState.PAUSED: StateLook("#7D8590", "disc", "pause"),
    TrayState.UNCONFIGURED: StateLook("#7D8590", "ring", "dots"),
    TrayState.AUTH_FAILED: StateLook("#A1339B", "triangle", "bang"),
    TrayState.STASH_PROBLEM: StateLook("#2F6FD0", "diamond", "cross"),
    TrayState.ENGINE_ERROR: StateLook("#A0142A", "octagon", "bang"),
}

_RIM = QColor(20, 20, 20, 210)
_HALO = QColor(255, 255, 255, 150)
_MONO_INK = {IconStyle.MONO_DARK: QColor("#202020"), IconStyle.MONO_LIGHT: QColor("#F2F2F2")}


def render_state_image(state: TrayState, size: int, style: IconStyle = IconStyle.COLOUR) -> QImage:
    """The state's icon as a `size` x `size` transparent image."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _draw(painter, LOOKS[state], float(size), style)
    finally:
        painter.end()
    return image


def _draw(painter: QPainter, look: StateLook, size: float, style: IconStyle) -> None:
    line = max(1.0, size / 16.0)
    body = _silhouette(look.silhouette, size, line)
    fill = QColor(look.fill) if style is IconStyle.COLOUR else _MONO_INK[style]
    if style is IconStyle.COLOUR:
        painter.strokePath(body, QPen(_HALO, line * 2.2))  # the light halo, outside the rim
        painter.fillPath(body, fill)
        painter.strokePath(body, QPen(_RIM, line))
    else:
        painter.fillPath(body, fill)
    if look.silhouette == "ring":
        inner = _disc(size, line * 4.2)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
        painter.fillPath(inner, Qt.GlobalColor.transparent)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
        if style is IconStyle.COLOUR:
            painter.strokePath(inner, QPen(_RIM, line))
        _emblem(painter, look.emblem, size, line, fill, cut=False)
        return
    if style is IconStyle.COLOUR:
        _emblem(painter, look.emblem, size, line, QColor("white"), cut=False)
    else:
        _emblem(painter, look.emblem, size, line, fill, cut=True)


def _disc(size: float, inset: float) -> QPainterPath:
    path = QPainterPath()
    path.addEllipse(QRectF(inset, inset, size - 2 * inset, size - 2 * inset))
    return path


def _silhouette(kind: str, size: float, line: float) -> QPainterPath:
    inset = line * 1.6
    if kind in ("disc", "ring"):
        return _disc(size, inset)
    if kind in ("diamond", "octagon"):
        return _polygon(8 if kind == "octagon" else 4, size, inset)
    path = QPainterPath()  # a warning triangle with its base slightly above the bottom edge
    path.moveTo(size / 2, inset)
    path.lineTo(size - inset, size - inset * 1.2)
    path.lineTo(inset, size - inset * 1.2)
    path.closeSubpath()
    return path


def _polygon(corners: int, size: float, inset: float) -> QPainterPath:
    """A regular polygon filling the icon: a diamond (4, on a corner) or an octagon (8, flat)."""
    c, r = size / 2, size / 2 - inset
    offset = 0.0 if corners == 4 else math.pi / 8
    points = [
        QPointF(
            c + r * math.cos(offset + i * 2 * math.pi / corners),
            c + r * math.sin(offset + i * 2 * math.pi / corners),
        )
        for i in range(corners)
    ]
    path = QPainterPath(points[0])
    for point in points[1:]:
        path.lineTo(point)
    path.closeSubpath()
    return path


def _emblem(
    painter: QPainter, kind: str, size: float, line: float, colour: QColor, *, cut: bool
) -> None:
    """Draw the emblem in `colour`, or cut it out of the silhouette when `cut` (mono icons)."""
    if cut:
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
    c = size / 2
    width = max(1.6, size / 8.0)
    pen = QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    u = size / 32.0  # one unit of the 32 px design grid
    if kind == "check":
        path = QPainterPath(QPointF(9 * u, 16.5 * u))
        path.lineTo(14 * u, 21.5 * u)
        path.lineTo(23 * u, 11 * u)
        painter.drawPath(path)
    elif kind == "cross":
        painter.drawLine(QPointF(11 * u, 11 * u), QPointF(21 * u, 21 * u))
        painter.drawLine(QPointF(21 * u, 11 * u), QPointF(11 * u, 21 * u))
    elif kind == "half":
        half = QPainterPath()
        rect = QRectF(c - 7 * u, c - 7 * u, 14 * u, 14 * u)
        half.moveTo(c, c - 7 * u)
        half.arcTo(rect, 90, -180)
        half.closeSubpath()
        painter.fillPath(half, colour)
        painter.setPen(QPen(colour, max(1.0, line * 1.2)))
        painter.drawEllipse(rect)
    elif kind == "pause":
        painter.setPen(Qt.PenStyle.NoPen)
        for x in (10.5 * u, 17.5 * u):
            painter.fillRect(QRectF(x, 9.5 * u, 4 * u, 13 * u), colour)
    elif kind == "dots":
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        for x in (10.5 * u, 16 * u, 21.5 * u):
            painter.drawEllipse(QPointF(x, c), 1.9 * u + 0.3, 1.9 * u + 0.3)
    elif kind == "bang":
        painter.drawLine(QPointF(c, 12 * u), QPointF(c, 19 * u))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(QPointF(c, 24 * u), width / 1.6, width / 1.6)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)


class IconCache:
    """Every state's QIcon, rendered once at 16-64 px and reused for the app's lifetime."""

    def __init__(self, style: IconStyle = IconStyle.COLOUR, *, sizes: tuple[int, ...] = SIZES):
        self.style = style
        self._sizes = sizes
        self._icons: dict[TrayState, QIcon] = {}

    def icon(self, state: TrayState) -> QIcon:
        icon = self._icons.get(state)
        if icon is None:
            icon = QIcon()
            for size in self._sizes:
                icon.addPixmap(QPixmap.fromImage(render_state_image(state, size, self.style)))
            if self.style is not IconStyle.COLOUR and sys.platform == "darwin":
                icon.setIsMask(True)  # a macOS template icon follows the menu bar's appearance
            self._icons[state] = icon
        return icon

    def warm(self) -> None:
        """Render every state now, at start-up, rather than on the first state change."""
        for state in TrayState:
            self.icon(state)


def style_from_env(value: str | None) -> IconStyle:
    """`PLEXSYNC_TRAY_ICONS=mono-dark|mono-light|colour`; anything else means colour."""
    try:
        return IconStyle((value or "").strip().lower() or IconStyle.COLOUR)
    except ValueError:
        return IconStyle.COLOUR
