"""Mnemonics ('&' accelerators) in Qt labels: strip them for comparison, find them, escape data.

Qt reads `&x` as "x is the mnemonic" and `&&` as a literal ampersand, so a label that comes from
data (a scene title, a server's error) is escaped before it becomes a menu entry's text.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialogButtonBox

_MARK = re.compile(r"&(.)", re.DOTALL)


def plain(label: str) -> str:
    """The label as a user reads it: `&Sync now` -> `Sync now`, `Tom && Jerry` -> `Tom & Jerry`."""
    return _MARK.sub(r"\1", label)


def mnemonic(label: str) -> str | None:
    """The accelerator letter, lower-cased (`S&ync now` -> `y`); None when there is none."""
    for match in _MARK.finditer(label):
        if match.group(1) != "&":
            return match.group(1).lower()
    return None


def literal(text: str) -> str:
    """`text` shown as it is, with no mnemonic (for labels that come from data)."""
    return text.replace("&", "&&")


def label_standard_buttons(box: QDialogButtonBox) -> None:
    """Give a button box's standard buttons mnemonics (the plain platform theme has none)."""
    for standard, text in _STANDARD_LABELS.items():
        button = box.button(standard)
        if button is not None:
            button.setText(QCoreApplication.translate("StandardButtons", text))


_STANDARD_LABELS = {
    QDialogButtonBox.StandardButton.Ok: "&OK",
    QDialogButtonBox.StandardButton.Cancel: "&Cancel",
    QDialogButtonBox.StandardButton.Apply: "&Apply",
    QDialogButtonBox.StandardButton.Close: "&Close",
}
