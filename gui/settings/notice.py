"""What reading the config file found, shown at the top of the settings dialog (never in a
window behind it): invalid values, ignored keys, and a file others can read, with a fix."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from engine.config.file import ConfigLoad, fix_permissions
from gui.translations import fill


def tr(text: str) -> str:
    return QCoreApplication.translate("LoadNotice", text)


def problems_by_field(report: ConfigLoad | None) -> dict[str, list[str]]:
    """The load problems per top-level setting, as the dialog's error labels show them."""
    found: dict[str, list[str]] = {}
    if report is not None and report.problem is not None:
        for problem in report.problem.fields:
            words = (
                fill(tr("In the file: %1; %2."), problem.message, problem.instead)
                if problem.instead
                else fill(tr("In the file: %1."), problem.message)
            )
            found.setdefault(problem.name, []).append(words)
    return found


class LoadNotice(QWidget):
    """A banner with the report, and a button to make an exposed file private."""

    def __init__(self, config_file: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config_file = config_file
        self.label = QLabel(self)
        self.label.setObjectName("load_notice")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet("QLabel { background: #fff3cd; color: #533f03; padding: 6px; }")
        self.fix_button = QPushButton(tr("Make the settings file private"), self)
        self.fix_button.setObjectName("fix_permissions")
        self.fix_button.clicked.connect(self.on_fix_button_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.fix_button)
        self.show_report(None)

    def text(self) -> str:
        return self.label.text()

    def show_report(self, report: ConfigLoad | None) -> None:
        lines: list[str] = []
        if report is not None and report.problem is not None:
            lines.append(report.problem.summary)
            lines += [f"• {p.describe()}" for p in report.problem.fields]
            lines.append(tr("The marked fields show what is used now; OK saves them to the file."))
        if report is not None:
            lines += report.warnings()
        self._say("\n".join(lines))
        self.fix_button.setVisible(report is not None and report.exposed)

    def saved(self, *, was_exposed: bool) -> None:
        """The file now holds the form (written 0600): the old report no longer applies."""
        self.fix_button.hide()
        self._say(tr("The settings file is now private (mode 0600).") if was_exposed else "")

    @Slot()
    def on_fix_button_clicked(self) -> None:
        try:
            message = fix_permissions(self._config_file)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            message = fill(tr("Could not change the file's permissions: %1"), reason)
        else:
            self.fix_button.hide()
        self._say(message)

    def _say(self, text: str) -> None:
        self.label.setText(text)
        self.label.setVisible(bool(text))
        self.setVisible(bool(text) or not self.fix_button.isHidden())
