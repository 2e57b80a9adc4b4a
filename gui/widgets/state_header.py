"""The window's header: the engine's state in colour, shape and words, with what the user can do.

A badge (each state its own colour and shape, so colour is never the only cue), a title and a
detail line; while the breaker is open, a countdown to the next retry. Buttons appear only when they
apply: Retry now and Reset circuit breaker, Resume while paused. A banner explains a failed login
and offers the settings.
"""

from __future__ import annotations

import html
import logging
import math
import time
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QHideEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.breaker import CircuitState
from engine.events import EngineStatus
from gui.presentation import SERVICE_NAMES, auth_service_name
from gui.widgets.header_words import (
    HeaderState,
    HeaderView,
    badge_name,
    describe,
    header_state,
)

__all__ = ["COLOURS", "HeaderState", "HeaderView", "StateBadge", "StateHeader", "describe"]

logger = logging.getLogger(__name__)


COLOURS: dict[HeaderState, QColor] = {
    HeaderState.UNKNOWN: QColor("#8a8f98"),
    HeaderState.ENGINE_ERROR: QColor("#a0142a"),
    HeaderState.STASH_PROBLEM: QColor("#2f6fd0"),
    HeaderState.UNCONFIGURED: QColor("#8a8f98"),
    HeaderState.AUTH_FAILED: QColor("#8e44ad"),
    HeaderState.PAUSED: QColor("#8a8f98"),
    HeaderState.STOPPED: QColor("#8a8f98"),
    HeaderState.OPEN: QColor("#d0342c"),
    HeaderState.HALF_OPEN: QColor("#e5a50a"),
    HeaderState.CLOSED: QColor("#2e9d4f"),
}


class StateBadge(QWidget):
    """A small painted badge: a shape per state, filled with the state's colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = HeaderState.UNKNOWN
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        side = max(32, self.fontMetrics().height() * 2)
        return QSize(side, side)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    @property
    def state(self) -> HeaderState:
        return self._state

    def set_state(self, state: HeaderState) -> None:
        if state is not self._state:
            self._state = state
            self.setAccessibleName(badge_name(state))
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height()) - 2.0
        box = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        painter.setPen(QPen(COLOURS[self._state].darker(130), 1.5))
        painter.setBrush(COLOURS[self._state])
        painter.drawPath(_outline(self._state, box))
        _draw_glyph(painter, self._state, box)
        painter.end()


def _outline(state: HeaderState, box: QRectF) -> QPainterPath:
    path = QPainterPath()
    c, r = box.center(), box.width() / 2
    if state in (HeaderState.OPEN, HeaderState.ENGINE_ERROR):  # octagon: "stop"
        points = [
            c + QPointF(r * math.cos(a), r * math.sin(a))
            for a in (math.pi / 8 + i * math.pi / 4 for i in range(8))
        ]
        path.addPolygon(QPolygonF([*points, points[0]]))
    elif state is HeaderState.HALF_OPEN:  # triangle: "caution"
        top, left, right = c + QPointF(0, -r), box.bottomLeft(), box.bottomRight()
        path.addPolygon(QPolygonF([top, right, left, top]))
    elif state in (HeaderState.AUTH_FAILED, HeaderState.STASH_PROBLEM):  # diamond
        points = [c + QPointF(0, -r), c + QPointF(r, 0), c + QPointF(0, r), c + QPointF(-r, 0)]
        path.addPolygon(QPolygonF([*points, points[0]]))
    elif state in (HeaderState.PAUSED, HeaderState.STOPPED):  # rounded square
        path.addRoundedRect(box, r / 3, r / 3)
    else:  # circle
        path.addEllipse(box)
    return path


def _draw_glyph(painter: QPainter, state: HeaderState, box: QRectF) -> None:
    """The emblem inside the shape, in white."""
    c, r = box.center(), box.width() / 2
    pen = QPen(QColor("white"), max(2.0, r / 4), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    if state is HeaderState.CLOSED:  # check mark
        painter.drawPolyline(
            QPolygonF(
                [c + QPointF(-r / 2, 0), c + QPointF(-r / 8, r / 2.5), c + QPointF(r / 2, -r / 3)]
            )
        )
    elif state in (HeaderState.OPEN, HeaderState.STASH_PROBLEM):  # cross
        d = r / 2.6
        painter.drawLine(c + QPointF(-d, -d), c + QPointF(d, d))
        painter.drawLine(c + QPointF(-d, d), c + QPointF(d, -d))
    elif state is HeaderState.PAUSED:  # two bars
        for dx in (-r / 4, r / 4):
            painter.drawLine(c + QPointF(dx, -r / 3), c + QPointF(dx, r / 3))
    elif state is HeaderState.STOPPED:  # a square
        painter.drawRect(QRectF(c.x() - r / 4, c.y() - r / 4, r / 2, r / 2))
    elif state in (HeaderState.HALF_OPEN, HeaderState.AUTH_FAILED, HeaderState.ENGINE_ERROR):
        top = -r / 6 if state is HeaderState.HALF_OPEN else -r / 2.5
        painter.drawLine(c + QPointF(0, top), c + QPointF(0, r / 6 + top / 3))
        painter.drawPoint(c + QPointF(0, r / 2.6))
    else:  # unknown / not configured: a dot in the middle
        painter.drawPoint(c)


class AuthBanner(QFrame):
    """A clear banner for a failed login, with the way out."""

    settings_requested = Signal()
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("authBanner")
        # Colours by palette, not a style sheet: a style sheet changes the frame's margins only
        # when it is polished, after the layout has measured the wrapped text.
        self.setFrameShape(QFrame.Shape.Box)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("#f3e5f5"))
        palette.setColor(QPalette.ColorRole.WindowText, QColor("#3c1450"))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self.message = QLabel(wordWrap=True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.settings_button = QPushButton(self.tr("Open &settings…"))
        self.settings_button.clicked.connect(self.settings_requested)
        self.retry_button = QPushButton(self.tr("&Try again"))
        self.retry_button.setToolTip(self.tr("Sync now with the current settings"))
        self.retry_button.clicked.connect(self.retry_requested)
        layout = QHBoxLayout(self)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.retry_button)
        layout.addWidget(self.settings_button)

    def show_message(self, text: str, *, can_retry: bool = True) -> None:
        self.message.setText(text)
        self.retry_button.setVisible(can_retry)
        self.show()


class StateHeader(QWidget):
    """Badge, words, countdown and the buttons that apply to the current state."""

    retry_requested = Signal()
    reset_requested = Signal()
    resume_requested = Signal()
    sync_requested = Signal()
    settings_requested = Signal()

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._status: EngineStatus | None = None
        self._auth_message: str | None = None
        self._auth_name = "Plex"  # whose sign-in failed: "Plex" or "Stash"
        self.badge = StateBadge()
        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.detail = QLabel(wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.retry_button = QPushButton(self.tr("Retry &now"))
        self.retry_button.setToolTip(self.tr("Try Plex now instead of waiting for the countdown"))
        self.reset_button = QPushButton(self.tr("Reset circuit &breaker"))
        self.reset_button.setToolTip(self.tr("Close the circuit and sync normally again"))
        self.resume_button = QPushButton(self.tr("Res&ume"))
        self.retry_button.clicked.connect(self.retry_requested)
        self.reset_button.clicked.connect(self.reset_requested)
        self.resume_button.clicked.connect(self.resume_requested)
        self.banner = AuthBanner()
        self.banner.settings_requested.connect(self.settings_requested)
        self.banner.retry_requested.connect(self.sync_requested)
        self._countdown = QTimer(self, interval=1000)
        self._countdown.timeout.connect(self._refresh_words)
        self._build_layout()
        self.set_status(None)

    def _build_layout(self) -> None:
        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(self.title)
        words.addWidget(self.detail)
        buttons = QHBoxLayout()
        for button in (self.retry_button, self.reset_button, self.resume_button):
            buttons.addWidget(button)
        row = QHBoxLayout()
        row.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(words, 1)
        row.addLayout(buttons)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(row)
        outer.addWidget(self.banner)

    @property
    def status(self) -> EngineStatus | None:
        return self._status

    def set_status(self, status: EngineStatus | None) -> None:
        self._status = status
        state = header_state(status)
        self.badge.set_state(state)
        breaker = None if status is None else status.breaker_state
        self.retry_button.setVisible(state is HeaderState.OPEN)
        self.reset_button.setVisible(
            breaker in (CircuitState.OPEN, CircuitState.HALF_OPEN)
            and state not in (HeaderState.UNCONFIGURED, HeaderState.UNKNOWN)
        )
        self.resume_button.setVisible(state is HeaderState.PAUSED)
        if status is not None and status.auth_error:
            self._auth_message = status.auth_error
            self._auth_name = auth_service_name(status)
        elif status is not None:
            self._auth_message = None
        self._update_banner(state)
        self._refresh_words()
        self._update_countdown()

    def show_auth_failure(self, service: str, message: str) -> None:
        """The engine reported a rejected login (before the next status arrives)."""
        name = SERVICE_NAMES.get(service.lower(), "Plex")
        self._auth_name = name
        self._auth_message = message if message.startswith(name) else f"{name}: {message}"
        self._update_banner(HeaderState.AUTH_FAILED)

    def _update_banner(self, state: HeaderState) -> None:
        if state is HeaderState.UNCONFIGURED:
            self.banner.show_message(
                self.tr("PlexSync needs the Plex and Stash addresses and keys before it can sync."),
                can_retry=False,
            )
        elif self._auth_message:
            name = self._auth_name
            check = (
                self.tr("Check the Stash API key in the settings, then try again.")
                if name == "Stash"
                else self.tr("Check the Plex token in the settings, then try again.")
            )
            failed = self.tr("%1 sign-in failed.").replace("%1", name)
            self.banner.show_message(
                f"<b>{html.escape(failed)}</b> {html.escape(self._auth_message)}<br>"
                f"{html.escape(check)}"
            )
        else:
            self.banner.hide()

    def _refresh_words(self) -> None:
        view = describe(self._status, self._clock())
        self.title.setText(view.title)
        self.detail.setText(view.detail)
        self.detail.setVisible(bool(view.detail))
        self.setAccessibleDescription(
            self.tr("%1. %2").replace("%1", view.title).replace("%2", view.detail)
        )

    def _update_countdown(self) -> None:
        ticking = (
            self._status is not None
            and self._status.retry_at is not None
            and header_state(self._status) is HeaderState.OPEN
        )
        if ticking and self.isVisible():
            self._countdown.start()
        else:
            self._countdown.stop()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._refresh_words()
        self._update_countdown()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._countdown.stop()
