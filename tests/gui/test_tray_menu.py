"""The tray: icon per state (set only on change), throttled tooltip, menu entries and actions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot
from tray_fakes import NOW, FakeAutostart, FakeEngine, make_status

from engine.breaker import CircuitState
from engine.events import CheckProgress
from gui.bridge import EngineBridge
from gui.icons import IconCache
from gui.mnemonics import plain
from gui.notifications import Notice, NoticeKind
from gui.presentation import TrayState
from gui.tray import TrayController, TrayHandlers


@dataclass
class Recorder:
    calls: list[str] = field(default_factory=list)
    start_at_login: list[bool] = field(default_factory=list)
    autostart: FakeAutostart | None = None

    def handlers(self, *, with_status: bool = True) -> TrayHandlers:
        def set_login(enabled: bool) -> None:
            self.start_at_login.append(enabled)
            if self.autostart is not None:
                self.autostart.set_enabled(enabled)

        return TrayHandlers(
            open_status=(lambda: self.calls.append("status")) if with_status else None,
            open_dead_letters=lambda: self.calls.append("dlq"),
            open_settings=lambda: self.calls.append("settings"),
            open_log_folder=lambda: self.calls.append("log"),
            set_start_at_login=set_login,
            quit=lambda: self.calls.append("quit"),
        )


class Clock:
    def __init__(self) -> None:
        self.wall = NOW
        self.mono = 100.0

    def now(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder(autostart=FakeAutostart())


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def tray(
    qtbot: QtBot, engine: FakeEngine, recorder: Recorder, clock: Clock
) -> Iterator[TrayController]:
    bridge = EngineBridge()
    engine.listener = bridge.listener
    bridge.attach(engine)
    controller = TrayController(
        bridge,
        recorder.handlers(),
        icons=IconCache(),
        autostart=recorder.autostart,
        clock=clock.now,
        monotonic=clock.monotonic,
    )
    yield controller
    controller.hide()


def send(tray: TrayController, clock: Clock, **changes: object) -> None:
    """Deliver a snapshot as the engine would, a second later than the last one."""
    clock.mono += 1.0
    tray.bridge.status_changed.emit(make_status(**changes))


def visible_texts(tray: TrayController) -> list[str]:
    tray.menu.aboutToShow.emit()
    return [plain(a.text()) for a in tray.menu.actions() if a.isVisible() and not a.isSeparator()]


def action(tray: TrayController, text: str) -> QAction:
    for candidate in tray.menu.actions():
        if plain(candidate.text()) == text:
            return candidate
    raise AssertionError(f"no menu entry {text!r}")


def test_menu_is_attached_and_lists_the_entries(tray: TrayController) -> None:
    assert tray.icon.contextMenu() is tray.menu
    assert visible_texts(tray) == [
        "Plex is in step",
        "Sync now",
        "Reset circuit breaker",
        "Pause",
        "Check library now",
        "Status…",
        "Settings…",
        "Open log folder",
        "Start at login",
        "Quit",
    ]
    assert [plain(a.text()) for a in tray.pause_menu.actions()] == [
        "For 15 minutes",
        "For 1 hour",
        "Until restart",
    ]
    assert not action(tray, "Reset circuit breaker").isEnabled()


def test_open_breaker_offers_retry_and_reset(tray: TrayController, clock: Clock) -> None:
    send(tray, clock, breaker_state=CircuitState.OPEN, retry_at=NOW + 90, dlq=12)
    texts = visible_texts(tray)
    assert texts[0] == "Plex is unreachable, retrying in 1 m 30 s"
    assert "Retry now" in texts
    assert "Failed scenes (12)…" in texts
    assert action(tray, "Reset circuit breaker").isEnabled()


def test_paused_offers_resume_instead_of_pause(tray: TrayController, clock: Clock) -> None:
    send(tray, clock, paused=True, paused_until=None)
    texts = visible_texts(tray)
    assert "Resume syncing" in texts
    assert "Pause" not in texts
    assert texts[0] == "Syncing is paused until restart"


def test_auth_failure_offers_the_settings(tray: TrayController, clock: Clock) -> None:
    send(tray, clock, auth_error="Plex rejected the token")
    texts = visible_texts(tray)
    assert texts[:2] == ["Plex rejected the token", "Fix the Plex sign-in…"]


def test_unconfigured_cannot_sync(tray: TrayController, clock: Clock) -> None:
    send(tray, clock, configured=False)
    assert not action(tray, "Sync now").isEnabled()
    assert tray.state is TrayState.UNCONFIGURED


def test_menu_actions_reach_the_engine(
    tray: TrayController, engine: FakeEngine, clock: Clock
) -> None:
    send(tray, clock, breaker_state=CircuitState.OPEN, retry_at=NOW + 60)
    tray.menu.aboutToShow.emit()
    action(tray, "Sync now").trigger()
    action(tray, "Retry now").trigger()
    action(tray, "Reset circuit breaker").trigger()
    quarter, hour, forever = tray.pause_menu.actions()
    quarter.trigger()
    hour.trigger()
    forever.trigger()
    action(tray, "Resume syncing").trigger()
    assert engine.calls == [
        ("sync_now", ()),
        ("retry_now", ()),
        ("reset_breaker", ()),
        ("pause", (NOW + 900,)),
        ("pause", (NOW + 3600,)),
        ("pause", (None,)),
        ("resume", ()),
    ]


def test_check_library_now_reaches_the_engine_and_shows_a_check_in_flight(
    tray: TrayController, engine: FakeEngine, clock: Clock
) -> None:
    send(tray, clock)
    tray.menu.aboutToShow.emit()
    action(tray, "Check library now").trigger()
    assert engine.calls == [("check_now", ())]
    send(tray, clock, check=CheckProgress("plex", 1000, None, NOW))
    tray.menu.aboutToShow.emit()
    assert not action(tray, "Checking library…").isEnabled()
    send(tray, clock, paused=True)
    tray.menu.aboutToShow.emit()
    assert not action(tray, "Check library now").isEnabled()


def test_menu_actions_outside_the_engine(
    tray: TrayController, recorder: Recorder, clock: Clock
) -> None:
    send(tray, clock, dlq=2)
    tray.menu.aboutToShow.emit()
    for text in ("Failed scenes (2)…", "Status…", "Settings…", "Open log folder", "Quit"):
        action(tray, text).trigger()
    assert recorder.calls == ["dlq", "status", "settings", "log", "quit"]


def test_reset_is_announced_so_no_recovery_notice_follows(
    tray: TrayController, clock: Clock
) -> None:
    send(tray, clock, breaker_state=CircuitState.OPEN)
    seen = []
    tray.breaker_reset_requested.connect(lambda: seen.append(True))
    tray.reset_action.trigger()
    assert seen == [True]


def test_icon_shows_the_state_and_is_set_only_on_change(
    tray: TrayController, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tray.current_icon().cacheKey() == tray.icons.icon(TrayState.CLOSED).cacheKey()
    set_icons: list[object] = []
    original = tray.icon.setIcon
    monkeypatch.setattr(tray.icon, "setIcon", lambda icon: (set_icons.append(icon), original(icon)))
    for pending in range(5):
        send(tray, clock, pending=pending)  # a busy engine: many snapshots, one state
    assert set_icons == []
    for state in (CircuitState.HALF_OPEN, CircuitState.OPEN, CircuitState.CLOSED):
        send(tray, clock, breaker_state=state, retry_at=NOW + 5)
    assert len(set_icons) == 3
    assert tray.current_icon().cacheKey() == tray.icons.icon(TrayState.CLOSED).cacheKey()


def test_a_probe_refused_at_once_does_not_flash_amber(
    qtbot: QtBot, tray: TrayController, clock: Clock
) -> None:
    send(tray, clock, breaker_state=CircuitState.OPEN, retry_at=NOW + 5)
    send(tray, clock, breaker_state=CircuitState.HALF_OPEN)
    assert tray.state is TrayState.OPEN  # held back for a moment
    send(tray, clock, breaker_state=CircuitState.OPEN, retry_at=NOW + 10)
    with qtbot.assertNotEmitted(tray._settle.timeout, wait=400):
        pass
    assert tray.state is TrayState.OPEN
    assert "retrying in 10 s" in tray.tooltip


def test_a_probe_in_flight_shows_amber(qtbot: QtBot, tray: TrayController, clock: Clock) -> None:
    send(tray, clock, breaker_state=CircuitState.OPEN, retry_at=NOW + 5)
    send(tray, clock, breaker_state=CircuitState.HALF_OPEN)
    qtbot.waitUntil(lambda: tray.state is TrayState.HALF_OPEN, timeout=2000)
    assert "Checking whether Plex is back" in tray.tooltip
    assert tray.current_icon().cacheKey() == tray.icons.icon(TrayState.HALF_OPEN).cacheKey()


def test_each_state_sets_its_own_icon(tray: TrayController, clock: Clock) -> None:
    keys = set()
    for changes in (
        {},
        {"breaker_state": CircuitState.HALF_OPEN},
        {"breaker_state": CircuitState.OPEN},
        {"paused": True},
        {"configured": False},
        {"auth_error": "rejected"},
    ):
        send(tray, clock, **changes)
        keys.add(tray.current_icon().cacheKey())
    assert len(keys) == 6


def test_tooltip_is_updated_at_most_once_a_second(
    qtbot: QtBot, tray: TrayController, clock: Clock
) -> None:
    tray.bridge.status_changed.emit(make_status(pending=1))  # same instant as the first text
    assert "1 queued" not in tray.tooltip
    qtbot.waitUntil(lambda: "1 queued" in tray.tooltip, timeout=2500)  # the deferred update
    assert tray.icon.toolTip() == tray.tooltip


def test_a_state_change_is_shown_at_once(tray: TrayController) -> None:
    tray.bridge.status_changed.emit(make_status(breaker_state=CircuitState.HALF_OPEN))
    assert "Checking whether Plex is back" in tray.tooltip


def test_open_breaker_counts_down_once_a_second(
    qtbot: QtBot, tray: TrayController, clock: Clock
) -> None:
    send(tray, clock, breaker_state=CircuitState.OPEN, retry_at=NOW + 30)
    assert "retrying in 30 s" in tray.tooltip
    assert tray._countdown.isActive()
    clock.wall += 1
    clock.mono += 1
    qtbot.waitUntil(lambda: "retrying in 29 s" in tray.tooltip, timeout=2500)
    send(tray, clock)
    assert not tray._countdown.isActive()


def test_left_click_opens_the_status_window(tray: TrayController, recorder: Recorder) -> None:
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Context)
    assert recorder.calls == ["status"]


def test_left_click_opens_the_settings_without_a_status_window(
    qtbot: QtBot, engine: FakeEngine, recorder: Recorder
) -> None:
    bridge = EngineBridge()
    bridge.attach(engine)
    handlers = recorder.handlers(with_status=False)
    tray = TrayController(bridge, handlers, icons=IconCache(), autostart=None)
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert recorder.calls == ["settings"]
    assert not tray.status_window_action.isVisible()
    assert not tray.autostart_action.isEnabled()


def test_start_at_login_shows_what_is_on_disk(tray: TrayController, recorder: Recorder) -> None:
    autostart = recorder.autostart
    assert autostart is not None
    login = tray.autostart_action
    assert login.isCheckable() and not login.isChecked()
    login.trigger()
    assert recorder.start_at_login == [True]
    assert login.isChecked() and autostart.enabled
    autostart.enabled = False  # removed behind our back
    tray.menu.aboutToShow.emit()
    assert not login.isChecked()


def test_a_broken_login_entry_asks_for_repair(tray: TrayController, recorder: Recorder) -> None:
    recorder.autostart = autostart = tray.autostart = FakeAutostart(
        enabled=True, problem="The login entry points to /gone, which no longer exists."
    )
    tray.menu.aboutToShow.emit()
    assert plain(tray.autostart_action.text()) == "Start at login (needs repair)"
    assert not tray.autostart_action.isChecked()
    assert "no longer exists" in tray.autostart_action.toolTip()
    tray.autostart_action.trigger()
    assert autostart.writes == [True]
    assert plain(tray.autostart_action.text()) == "Start at login"
    assert tray.autostart_action.isChecked()


def test_extra_submenu_sits_above_quit(tray: TrayController) -> None:
    hits: list[str] = []
    tray.add_submenu("Demo", [("Simulate Plex outage", lambda: hits.append("outage"))])
    texts = visible_texts(tray)
    assert texts[-2:] == ["Demo", "Quit"]
    demo = next(a for a in tray.menu.actions() if plain(a.text()) == "Demo").menu()
    demo.actions()[0].trigger()
    assert hits == ["outage"]


def test_clicking_a_dead_letter_notice_opens_the_queue(
    tray: TrayController, recorder: Recorder
) -> None:
    tray.show_notice(Notice(NoticeKind.DEAD_LETTERED, "3 scenes failed", "see the DLQ"))
    tray.icon.messageClicked.emit()
    tray.show_notice(Notice(NoticeKind.AUTH, "Plex rejected the sign-in", "", critical=True))
    tray.icon.messageClicked.emit()
    tray.show_notice(Notice(NoticeKind.OUTAGE, "Plex is unreachable", "", critical=True))
    tray.icon.messageClicked.emit()
    assert recorder.calls == ["dlq", "settings", "status"]
