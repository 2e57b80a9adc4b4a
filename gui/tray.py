"""The tray icon: state in colour, shape and words; a menu rebuilt from the last snapshot.

The icon is set only when the state changes. The tooltip and the menu's status line are updated
at most once a second (a one-second timer runs only while an open breaker counts down). The menu
is attached to the icon before it is filled (GNOME shows nothing otherwise) and refreshed from the
bridge's snapshot on `aboutToShow`.

Every entry that is a command has a mnemonic, unique in its menu (tests/gui/test_mnemonics.py
holds the list); lines that only show state, or text from data, have none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from engine.breaker import CircuitState
from engine.events import EngineStatus
from gui.autostart import Autostart
from gui.bridge import EngineBridge
from gui.icons import IconCache
from gui.mnemonics import literal
from gui.notifications import Notice, NoticeKind
from gui.presentation import (
    APP_TITLE,
    TrayState,
    dlq_explained,
    dlq_menu_label,
    fix_sign_in_label,
    needs_countdown,
    other_problems,
    short,
    status_line,
    tooltip_text,
    tray_state,
)

logger = logging.getLogger(__name__)

MIN_TEXT_INTERVAL_S = 1.0
SETTLE_MS = 300
CONTEXT = "TrayController"
# (label, seconds); the labels are translated when the menu is built.
PAUSE_CHOICES: tuple[tuple[str, float | None], ...] = (
    ("For &15 minutes", 15 * 60.0),
    ("For 1 &hour", 60 * 60.0),
    ("&Until restart", None),
)


@dataclass
class TrayHandlers:
    """What the menu does outside the engine; wired by the composition root."""

    open_status: Callable[[], None] | None  # None until the status window exists
    open_dead_letters: Callable[[], None]
    open_settings: Callable[[], None]
    open_log_folder: Callable[[], None]
    set_start_at_login: Callable[[bool], None]
    quit: Callable[[], None]


class TrayController(QObject):
    """Owns the QSystemTrayIcon and its menu; reads state only from the bridge."""

    breaker_reset_requested = Signal()  # by the user, from the menu

    def __init__(
        self,
        bridge: EngineBridge,
        handlers: TrayHandlers,
        *,
        icons: IconCache,
        autostart: Autostart | None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.handlers = handlers
        self.icons = icons
        self.autostart = autostart
        self._clock = clock
        self._monotonic = monotonic
        self._state: TrayState | None = None
        self._last_text_at = float("-inf")
        self._tooltip = ""
        self.icon = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.icon.setContextMenu(self.menu)  # attach first, then fill (the GNOME rule)
        self._build_menu()
        self.menu.aboutToShow.connect(self.on_menu_about_to_show)
        self.icon.activated.connect(self.on_icon_activated)
        self.icon.messageClicked.connect(self.on_icon_message_clicked)
        self._text_timer = QTimer(self)  # the throttle's deferred update
        self._text_timer.setSingleShot(True)
        self._text_timer.timeout.connect(self.refresh_text)
        self._countdown = QTimer(self)  # 1 Hz, only while an open breaker counts down
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self.refresh_text)
        self._settle = QTimer(self)  # holds a HALF_OPEN back briefly (see apply_status)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._on_settled)
        self._shown: EngineStatus | None = None
        self._last_notice: Notice | None = None
        bridge.status_changed.connect(self.on_bridge_status_changed)
        self.apply_status(bridge.status, force=True)
        self._refresh_autostart()

    # --- menu -------------------------------------------------------------------------------

    def _add(self, text: str, slot: Callable[[], object], menu: QMenu | None = None) -> QAction:
        action = QAction(text, self.menu)
        action.triggered.connect(lambda _checked=False: slot())
        (menu or self.menu).addAction(action)
        return action

    def _build_menu(self) -> None:
        menu = self.menu
        self.status_action = QAction(APP_TITLE, menu)
        self.status_action.setEnabled(False)
        menu.addAction(self.status_action)
        self.problem_action = QAction("", menu)  # another service's problem, or what to do
        self.problem_action.setEnabled(False)
        self.problem_action.setVisible(False)
        menu.addAction(self.problem_action)
        menu.addSeparator()
        self.fix_auth_action = self._add(
            self.tr("&Fix the Plex sign-in…"), self.handlers.open_settings
        )
        self.sync_now_action = self._add(self.tr("S&ync now"), self.bridge.sync_now)
        self.retry_now_action = self._add(self.tr("&Retry now"), self.bridge.retry_now)
        self.reset_action = self._add(self.tr("Reset circuit &breaker"), self._reset_breaker)
        self.resume_action = self._add(self.tr("Resu&me syncing"), self.bridge.resume)
        self.pause_menu = QMenu(self.tr("Pa&use"), menu)
        self.pause_actions: list[QAction] = []
        for label, seconds in PAUSE_CHOICES:
            text = QCoreApplication.translate(CONTEXT, label)
            action = self._add(text, partial(self._pause, seconds), self.pause_menu)
            self.pause_actions.append(action)
        self.pause_menu_action = menu.addMenu(self.pause_menu)
        menu.addSeparator()
        self.check_action = self._add(self.tr("&Check library now"), self.bridge.check_now)
        self.dlq_action = self._add(dlq_menu_label(0), self.handlers.open_dead_letters)
        self.dlq_action.setToolTip(dlq_explained())
        self.status_window_action = self._add(self.tr("Sta&tus…"), self._open_status)
        self.settings_action = self._add(self.tr("&Settings…"), self.handlers.open_settings)
        self.log_action = self._add(self.tr("Open &log folder"), self.handlers.open_log_folder)
        self.autostart_action = QAction(self.tr("Start at lo&gin"), menu)
        self.autostart_action.setCheckable(True)
        self.autostart_action.toggled.connect(self._on_autostart_toggled)
        menu.addAction(self.autostart_action)
        self.extra_separator = menu.addSeparator()
        self.quit_action = self._add(self.tr("&Quit"), self.handlers.quit)

    def add_submenu(self, title: str, entries: list[tuple[str, Callable[[], object]]]) -> QMenu:
        """An extra submenu above Quit (the demo's); titles and labels come translated, with
        their mnemonics."""
        submenu = QMenu(title, self.menu)
        for label, slot in entries:
            self._add(label, slot, submenu)
        self.menu.insertMenu(self.quit_action, submenu)
        return submenu

    def _pause(self, seconds: float | None) -> None:
        self.bridge.pause(None if seconds is None else self._clock() + seconds)

    def _reset_breaker(self) -> None:
        self.breaker_reset_requested.emit()
        self.bridge.reset_breaker()

    def _open_status(self) -> None:
        if self.handlers.open_status is not None:
            self.handlers.open_status()

    @Slot()
    def on_menu_about_to_show(self) -> None:
        """Re-read everything the menu shows: the snapshot and the autostart entry on disk."""
        self.refresh_menu()
        self._refresh_autostart()

    def refresh_menu(self) -> None:
        """The entries that follow the engine's snapshot."""
        status = self._shown
        state = tray_state(status)
        now = self._clock()
        self._set_text(self.status_action, literal(status_line(status, now)))
        problems = other_problems(status)
        self._set_text(self.problem_action, literal(short(problems[0])) if problems else "")
        self.problem_action.setVisible(bool(problems))
        self._set_text(self.fix_auth_action, fix_sign_in_label(status))
        configured = status is not None and status.configured
        breaker = CircuitState(status.breaker_state) if status is not None else None
        paused = status is not None and status.paused
        self.fix_auth_action.setVisible(state is TrayState.AUTH_FAILED)
        self.sync_now_action.setEnabled(configured and not paused)
        checking = status is not None and status.check is not None
        check_label = self.tr("&Checking library…") if checking else self.tr("&Check library now")
        self._set_text(self.check_action, check_label)
        self.check_action.setEnabled(configured and not paused and not checking)
        self.retry_now_action.setVisible(configured and breaker is CircuitState.OPEN)
        self.reset_action.setEnabled(configured and breaker is not CircuitState.CLOSED)
        self.resume_action.setVisible(paused)
        self.pause_menu_action.setVisible(not paused)
        self.pause_menu_action.setEnabled(configured)
        dlq = status.dlq if status is not None else 0
        self._set_text(self.dlq_action, dlq_menu_label(dlq))
        self.dlq_action.setVisible(dlq > 0)
        self.status_window_action.setVisible(self.handlers.open_status is not None)

    def _refresh_autostart(self) -> None:
        action = self.autostart_action
        if self.autostart is None:
            action.setEnabled(False)
            action.setToolTip(self.tr("Not available here"))
            return
        enabled = self.autostart.is_enabled()
        problem = self.autostart.problem()
        label = self.tr("Start at lo&gin (needs repair)") if problem else self.tr("Start at lo&gin")
        self._set_text(action, label)
        action.setToolTip(problem or self.autostart.describe())
        action.blockSignals(True)
        action.setChecked(enabled and problem is None)
        action.blockSignals(False)

    @Slot(bool)
    def _on_autostart_toggled(self, checked: bool) -> None:
        try:
            self.handlers.set_start_at_login(checked)
        finally:
            self._refresh_autostart()  # show what is really on disk now

    @staticmethod
    def _set_text(action: QAction, text: str) -> None:
        if action.text() != text:
            action.setText(text)

    # --- icon and tooltip -----------------------------------------------------------------

    @Slot(object)
    def on_bridge_status_changed(self, status: EngineStatus) -> None:
        self.apply_status(status)

    def apply_status(self, status: EngineStatus | None, *, force: bool = False) -> None:
        state = tray_state(status)
        if state is TrayState.HALF_OPEN and self._state is TrayState.OPEN and not force:
            # A probe refused at once would flash amber for a millisecond every retry; show
            # amber only when the probe is really in flight for a moment.
            if not self._settle.isActive():
                self._settle.start()
            return
        self._settle.stop()
        self._shown = status
        if state is not self._state:
            self._state = state
            self.icon.setIcon(self.icons.icon(state))
            logger.info("Tray state: %s", status_line(status, self._clock()))
            force = True  # a new state is worth saying at once
        if needs_countdown(status):
            if not self._countdown.isActive():
                self._countdown.start()
        else:
            self._countdown.stop()
        elapsed = self._monotonic() - self._last_text_at
        if force or elapsed >= MIN_TEXT_INTERVAL_S:
            self.refresh_text()
        elif not self._text_timer.isActive():
            self._text_timer.start(round((MIN_TEXT_INTERVAL_S - elapsed) * 1000) + 1)

    @Slot()
    def _on_settled(self) -> None:
        status = self.bridge.status
        self.apply_status(status, force=tray_state(status) is TrayState.HALF_OPEN)

    @Slot()
    def refresh_text(self) -> None:
        self._last_text_at = self._monotonic()
        self._text_timer.stop()
        text = tooltip_text(self._shown, self._clock())
        if text != self._tooltip:
            self._tooltip = text
            self.icon.setToolTip(text)
        self.refresh_menu()

    @property
    def state(self) -> TrayState | None:
        return self._state

    @property
    def tooltip(self) -> str:
        return self._tooltip

    def current_icon(self) -> QIcon:
        return self.icon.icon()

    # --- clicks and messages ---------------------------------------------------------------

    @Slot(QSystemTrayIcon.ActivationReason)
    def on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason not in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            return
        if self.handlers.open_status is not None:
            self.handlers.open_status()
        else:
            self.handlers.open_settings()

    def show_notice(self, notice: Notice) -> None:
        self._last_notice = notice
        kind = (
            QSystemTrayIcon.MessageIcon.Warning
            if notice.critical
            else QSystemTrayIcon.MessageIcon.Information
        )
        self.icon.showMessage(notice.title, notice.message, kind, 10_000)

    @Slot()
    def on_icon_message_clicked(self) -> None:
        notice = self._last_notice
        if notice is not None and notice.kind is NoticeKind.DEAD_LETTERED:
            self.handlers.open_dead_letters()
        elif notice is not None and notice.kind is NoticeKind.AUTH:
            self.handlers.open_settings()
        elif self.handlers.open_status is not None:
            self.handlers.open_status()

    def show(self) -> None:
        self.icon.show()
        self.icon.setToolTip(self._tooltip)  # set again after show(): Windows 11 drops it

    def hide(self) -> None:
        self.icon.hide()
