"""Notifications: transitions only, start-up silence, cooldown per kind, aggregation, a switch."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from tray_fakes import FakeEngine

from engine.events import JobOutcome
from gui.bridge import EngineBridge
from gui.notifications import Notice, NoticeKind, NotificationPolicy, TrayNotifier


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(clock: Clock, **kwargs: object) -> NotificationPolicy:
    return NotificationPolicy(clock=clock, **kwargs)  # type: ignore[arg-type]


def test_nothing_in_the_first_15_seconds() -> None:
    clock = Clock()
    notes = policy(clock)
    assert notes.breaker_changed("closed", "open") is None
    clock.now += 14.9
    assert notes.auth_failed("plex", "Plex rejected the token") is None
    clock.now += 0.2
    notice = notes.breaker_changed("closed", "open")
    assert notice is not None and notice.kind is NoticeKind.OUTAGE and notice.critical


def test_cooldown_per_kind() -> None:
    clock = Clock()
    notes = policy(clock, startup_silence=0, cooldowns={NoticeKind.OUTAGE: 600.0})
    assert notes.breaker_changed("closed", "open") is not None
    clock.now += 60
    assert notes.breaker_changed("closed", "open") is None  # flapping: held back
    recovered = notes.breaker_changed("half_open", "closed")  # another kind: not held back
    assert recovered is not None and recovered.title == "Plex is back"
    clock.now += 600
    assert notes.breaker_changed("closed", "open") is not None


def test_only_transitions_that_matter() -> None:
    clock = Clock()
    notes = policy(clock, startup_silence=0, cooldowns={})
    assert notes.breaker_changed("open", "half_open") is None  # a probe is not news
    assert notes.breaker_changed("half_open", "open") is None  # nor a failed probe
    assert notes.breaker_changed("open", "closed") is not None


def test_a_manual_reset_is_not_announced_as_recovery() -> None:
    clock = Clock()
    notes = policy(clock, startup_silence=0, cooldowns={})
    notes.user_reset_breaker()
    assert notes.breaker_changed("open", "closed") is None
    assert notes.breaker_changed("open", "closed") is not None


def test_dead_letters_are_aggregated() -> None:
    clock = Clock()
    notes = policy(clock, startup_silence=0, batch_window=10.0)
    for _ in range(12):
        notes.dead_lettered(1)
        clock.now += 0.5
    assert notes.due() is None  # still inside the window
    clock.now += 10
    notice = notes.due()
    assert notice == Notice(
        NoticeKind.DEAD_LETTERED,
        "12 scenes failed",
        "Listed under Failed scenes in the status window; the rest keep syncing.",
    )
    assert notes.due() is None


def test_dead_letters_during_silence_and_cooldown_are_kept_for_later() -> None:
    clock = Clock()
    notes = policy(
        clock, startup_silence=15, batch_window=1, cooldowns={NoticeKind.DEAD_LETTERED: 100}
    )
    notes.dead_lettered(2)
    clock.now += 5
    assert notes.due() is None  # start-up silence
    clock.now += 11
    first = notes.due()
    assert first is not None and first.title == "2 scenes failed"
    notes.dead_lettered(1)
    clock.now += 50
    assert notes.due() is None  # cooldown
    clock.now += 60
    later = notes.due()
    assert later is not None and later.title == "1 scene failed"


def test_the_settings_switch_silences_everything() -> None:
    clock = Clock()
    notes = policy(clock, startup_silence=0, enabled=False, batch_window=0)
    assert notes.breaker_changed("closed", "open") is None
    assert notes.auth_failed("plex", "bad token") is None
    notes.dead_lettered(3)
    assert notes.due() is None
    notes.enabled = True
    assert notes.breaker_changed("closed", "open") is not None


def test_tray_notifier_follows_the_bridge(qtbot: QtBot) -> None:
    clock = Clock()
    shown: list[Notice] = []
    notifier = TrayNotifier(
        policy(clock, startup_silence=0, batch_window=0), shown.append, poll_ms=10
    )
    bridge = EngineBridge()
    bridge.attach(FakeEngine(bridge.listener))
    notifier.connect_bridge(bridge)
    bridge.breaker_changed.emit("closed", "open")
    bridge.auth_failed.emit("plex", "Plex rejected the token")
    failed = JobOutcome("1", "One", ok=False, dead_lettered=True)
    bridge.dead_lettered.emit([failed, failed])
    qtbot.waitUntil(lambda: len(shown) == 3, timeout=2000)
    assert [n.kind for n in shown] == [NoticeKind.OUTAGE, NoticeKind.AUTH, NoticeKind.DEAD_LETTERED]
    assert shown[1].title == "Plex rejected the sign-in"
    assert shown[1].message == "Syncing is paused until the token is fixed in Settings."
    assert shown[2].message.startswith("Listed under Failed scenes")
    qtbot.waitUntil(lambda: not notifier._timer.isActive(), timeout=1000)
