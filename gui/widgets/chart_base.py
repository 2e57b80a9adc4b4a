"""What the two small QPainter charts share: a plot area sized from the font, per-point tooltips."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QPoint, QRectF, QSize
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

logger = logging.getLogger(__name__)


class Chart(QWidget):
    """A widget that paints a chart and shows a tooltip for whatever is under the mouse."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        line = self.fontMetrics().height()
        return QSize(40 * line, 6 * line)

    def minimumSizeHint(self) -> QSize:
        line = self.fontMetrics().height()
        return QSize(16 * line, 4 * line)

    def plot_rect(self) -> QRectF:
        """Where the data goes: the widget minus a margin and one text line below for the axis."""
        line = self.fontMetrics().height()
        margin = max(2.0, line / 4)
        return QRectF(
            margin,
            line + margin,
            max(1.0, self.width() - 2 * margin),
            max(1.0, self.height() - 2 * line - 2 * margin),
        )

    def tooltip_at(self, pos: QPoint) -> str | None:
        """The tooltip for a point in widget coordinates (None: nothing there)."""
        return None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
