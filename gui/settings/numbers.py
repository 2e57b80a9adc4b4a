"""A number field for the settings dialog that never changes what the user typed.

A QSpinBox clamps an out-of-range value silently; this line edit keeps the text as typed, shows
its range and unit beside it and in its tooltip, and reports a problem in words instead.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QWidget

from gui.settings.fields import field_bounds
from gui.translations import fill, translate_n

NUMBER = re.compile(r"^\s*-?\d+(?:[.,]\d+)?\s*$")


def tr(text: str) -> str:
    return QCoreApplication.translate("NumberEdit", text)


def plural(count: float, one: str, many: str) -> str:
    """The unit in its plural form for `count` (English: `one` for exactly 1, else `many`; a
    translation supplies its own forms). A fraction takes the form of its whole part."""
    return translate_n("NumberEdit", one, many, int(count) if count == int(count) else 2)


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class NumberEdit(QWidget):
    """Text box + unit; `value()` is None while the text is not a number in range."""

    valueChanged = Signal()  # mirrors QSpinBox's signal name

    def __init__(
        self, name: str, *, integer: bool, unit: tuple[str, str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.integer = integer
        self.unit_one, self.unit_many = unit
        low, high = field_bounds(name)
        self._low, self._high = low, high
        self.edit = QLineEdit(self)
        self.edit.setObjectName(name)
        self.edit.setMaximumWidth(self.edit.fontMetrics().horizontalAdvance("000000") + 16)
        self.unit_label = QLabel(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.unit_label, 1)
        self.setFocusProxy(self.edit)
        self.setToolTip(self.range_text())
        self.edit.setToolTip(self.range_text())
        self.edit.textChanged.connect(self._on_text_changed)
        self._update_unit()

    def range_text(self) -> str:
        """`1–3600 seconds`: the allowed range with its unit."""
        low, high = format_number(self._low), format_number(self._high)
        unit = plural(self._high, self.unit_one, self.unit_many)
        return fill(tr("%1–%2 %3"), low, high, unit).strip()

    def minimum(self) -> float:
        return self._low

    def maximum(self) -> float:
        return self._high

    def text(self) -> str:
        return self.edit.text()

    def setValue(self, value: float) -> None:  # Qt naming, like QSpinBox
        self.edit.setText(format_number(value))

    def value(self) -> float | None:
        """The number typed, or None when it is not a number in range."""
        return None if self.problem() else self._parsed()

    def _parsed(self) -> float | None:
        text = self.edit.text()
        if not NUMBER.match(text):
            return None
        number = float(text.replace(",", "."))
        if self.integer:
            return int(number) if number.is_integer() else None
        return number

    def problem(self) -> str | None:
        """What is wrong with the text, in words (None when it is fine)."""
        number = self._parsed()
        low, high = format_number(self._low), format_number(self._high)
        if number is None:
            kind = tr("a whole number") if self.integer else tr("a number")
            return tr("Enter %1 from %2 to %3.").replace("%1", kind).replace("%2", low).replace(
                "%3", high
            ) + fill(tr(" (%1)"), self.range_text())
        if number < self._low or number > self._high:
            return (
                tr("%1 is outside the allowed range: %2.")
                .replace("%1", self.edit.text().strip())
                .replace("%2", self.range_text())
            )
        return None

    def _update_unit(self) -> None:
        number = self._parsed()
        unit = plural(number if number is not None else 0, self.unit_one, self.unit_many)
        low, high = format_number(self._low), format_number(self._high)
        self.unit_label.setText(fill(tr("%1 (%2–%3)"), unit, low, high))

    def _on_text_changed(self, _text: str) -> None:
        self._update_unit()
        self.valueChanged.emit()
