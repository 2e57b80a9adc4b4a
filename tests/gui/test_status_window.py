"""The status window follows the engine's signals, sends it commands, never blocks on the DB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from status_fakes import (
    Clock,
    FakeBridge,
    build_window,
    make_status,
    seed_dlq,
    seed_history,
    show_and_wait,
)

from engine.breaker import CircuitState
from engine.events import Progress
from engine.store.jobs import JobStore
from gui.status_window import StatusWindow
from gui.store_reader import Section, StoreReader

pytestmark = pytest.mark.gui

# 10:00 local time on a fixed day, so "Paused until 14:30" is today.
TEN_AM = datetime(2026, 9, 21, 10, 0, 0).astimezone().timestamp()


@pytest.fixture
def clock() -> Clock:
    return Clock(TEN_AM)


@pytest.fixture
def bridge(store: JobStore) -> FakeBridge:
    return FakeBridge(store, make_status())


@pytest.fixture
def window(qtbot: QtBot, bridge: FakeBridge, database: Path, clock: Clock) -> StatusWindow:
    return build_window(qtbot, bridge, database, clock)


def value(window: StatusWindow, key: str) -> str:
    return window.counters.values[key].text()


# --- counters and progress ----------------------------------------------------------------------


def test_counters_follow_status_signals(
    window: StatusWindow, bridge: FakeBridge, clock: Clock
) -> None:
    bridge.emit_status(
        make_status(
            pending=1234,
            waiting=4,
            in_progress=2,
            synced_today=56,
            dlq=7,
            last_sync_at=clock.t - 180,
        )
    )
    assert value(window, "pending") == "1,234 (4 waiting)"
    assert value(window, "in_progress") == "2"
    assert value(window, "synced_today") == "56"
    assert value(window, "dlq") == "7"
    assert value(window, "last_sync") == "09:57 (3 min ago)"

    bridge.emit_status(make_status(pending=0, dlq=0, last_sync_at=None))
    assert value(window, "pending") == "0"
    assert value(window, "last_sync") == "never"


def test_without_a_status_the_counters_come_from_the_store(
    qtbot: QtBot, store: JobStore, clock: Clock, database: Path
) -> None:
    seed_dlq(store, clock, 2)
    store.enqueue("a", {"id": "a"})
    store.record_outcome(synced=3)
    window = build_window(qtbot, FakeBridge(store, None), database, clock)
    show_and_wait(qtbot, window)
    assert value(window, "pending") == "1"
    assert value(window, "dlq") == "2"
    assert value(window, "synced_today") == "3"
    assert value(window, "last_sync").endswith("(just now)")


def test_progress_bar_shows_a_large_sync_and_hides_after(
    window: StatusWindow, bridge: FakeBridge
) -> None:
    window.show_and_raise()
    assert not window.progress.isVisible()
    bridge.progress_changed.emit(Progress(done=250, total=10_000, rate=12.5))
    assert window.progress.isVisible()
    assert window.progress.bar.maximum() == 10_000 and window.progress.bar.value() == 250
    assert window.progress.bar.text() == "250 / 10,000"
    assert window.progress.details.text() == "12.5 scenes/s · about 13 min left"
    bridge.progress_changed.emit(None)
    assert not window.progress.isVisible()


# --- header -------------------------------------------------------------------------------------


def test_open_breaker_shows_countdown_and_both_buttons(
    window: StatusWindow, bridge: FakeBridge, clock: Clock
) -> None:
    window.show_and_raise()
    bridge.emit_status(make_status(breaker_state=CircuitState.OPEN, retry_at=clock.t + 42))
    header = window.header
    assert header.title.text() == "Plex unreachable (circuit open)"
    assert header.detail.text() == "Next retry in 0:42."
    assert header.retry_button.isVisible() and header.reset_button.isVisible()
    assert not header.resume_button.isVisible()

    assert header._countdown.isActive()  # ticks once a second while open and shown
    clock.advance(30)
    header._countdown.timeout.emit()
    assert header.detail.text() == "Next retry in 0:12."

    qtbot_click(header.retry_button)
    qtbot_click(header.reset_button)
    assert bridge.command_names() == ["retry_now", "reset_breaker"]

    window.hide()
    assert not header._countdown.isActive()


def test_closed_breaker_hides_the_recovery_buttons(
    window: StatusWindow, bridge: FakeBridge
) -> None:
    window.show_and_raise()
    bridge.emit_status(make_status(breaker_state=CircuitState.HALF_OPEN))
    assert window.header.title.text() == "Testing the connection (half-open)"
    assert window.header.reset_button.isVisible() and not window.header.retry_button.isVisible()
    bridge.emit_status(make_status())
    assert window.header.title.text() == "Connected (circuit closed)"
    assert not window.header.reset_button.isVisible()
    assert not window.header._countdown.isActive()


def test_paused_shows_until_when_and_resume(
    window: StatusWindow, bridge: FakeBridge, clock: Clock
) -> None:
    window.show_and_raise()
    half_past_two = clock.t + 4.5 * 3600
    bridge.emit_status(make_status(paused=True, paused_until=half_past_two))
    assert window.header.title.text() == "Paused until 14:30"
    assert window.header.resume_button.isVisible()
    qtbot_click(window.header.resume_button)
    assert bridge.command_names() == ["resume"]
    bridge.emit_status(make_status(paused=True, paused_until=None))
    assert window.header.title.text() == "Paused until restart"


def test_auth_failure_shows_a_banner_that_opens_the_settings(
    qtbot: QtBot, window: StatusWindow, bridge: FakeBridge
) -> None:
    window.show_and_raise()
    assert not window.header.banner.isVisible()
    bridge.auth_failed.emit("Plex", "the token was rejected (401)")
    banner = window.header.banner
    assert banner.isVisible()
    assert "Plex sign-in failed" in banner.message.text()
    assert "Plex: the token was rejected (401)" in banner.message.text()

    with qtbot.waitSignal(window.settings_requested):
        qtbot.mouseClick(banner.settings_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(banner.retry_button, Qt.MouseButton.LeftButton)
    assert bridge.command_names() == ["sync_now"]

    bridge.emit_status(make_status(auth_error="Stash rejected the API key", paused=True))
    assert window.header.title.text() == "Plex sign-in failed"
    assert "Stash rejected the API key" in banner.message.text()
    bridge.emit_status(make_status())
    assert not banner.isVisible()


def test_not_configured_offers_the_settings(
    qtbot: QtBot, window: StatusWindow, bridge: FakeBridge
) -> None:
    window.show_and_raise()
    bridge.emit_status(make_status(configured=False))
    assert window.header.title.text() == "Not set up yet"
    assert window.header.banner.isVisible() and not window.header.banner.retry_button.isVisible()
    with qtbot.waitSignal(window.settings_requested):
        window.header.banner.settings_button.click()


def test_html_in_an_error_is_shown_as_text(window: StatusWindow, bridge: FakeBridge) -> None:
    window.show_and_raise()
    bridge.emit_status(make_status(auth_error="<b>bad</b> & worse"))
    assert "&lt;b&gt;bad&lt;/b&gt; &amp; worse" in window.header.banner.message.text()


def qtbot_click(button: QAbstractButton) -> None:
    assert button.isVisible() and button.isEnabled()
    button.click()


# --- history ------------------------------------------------------------------------------------


def test_history_tab_shows_outages_and_throughput(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock
) -> None:
    seed_history(store, clock)
    show_and_wait(qtbot, window)
    assert len(window.timeline.outages) == 3
    assert len(window.timeline.stash_outages) == 1
    plex, stash = window.outage_summary.text().split("\n")
    assert plex.startswith("Plex: 3 outages · average time to recover 35 min · availability 99.")
    assert plex.endswith("an outage is ongoing")
    assert stash.startswith("Stash: 1 outage · average time to recover 20 min")
    assert window.throughput.total == sum(m % 7 + 1 for m in range(0, 60, 3))


def test_a_breaker_change_rereads_the_outages(
    qtbot: QtBot, window: StatusWindow, store: JobStore, bridge: FakeBridge, clock: Clock
) -> None:
    show_and_wait(qtbot, window)
    assert window.timeline.outages == ()
    store.outage_started(clock.t - 60)
    with qtbot.waitSignal(window.reader.snapshot_ready):
        bridge.breaker_changed.emit("closed", "open")
    assert len(window.timeline.outages) == 1


# --- window life cycle --------------------------------------------------------------------------


def test_closing_hides_the_window_and_keeps_the_app(qtbot: QtBot, window: StatusWindow) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window.show_and_raise()
    qtbot.waitExposed(window)
    assert not window.testAttribute(Qt.WidgetAttribute.WA_QuitOnClose)
    with qtbot.assertNotEmitted(app.lastWindowClosed):
        assert window.close()
    assert not window.isVisible()
    window.show_and_raise()
    assert window.isVisible()


def test_show_and_raise_restores_a_minimised_window(qtbot: QtBot, window: StatusWindow) -> None:
    window.show_and_raise()
    window.showMinimized()
    window.show_and_raise()
    assert window.isVisible() and not window.isMinimized()


def test_show_dlq_opens_the_dead_letter_tab(window: StatusWindow) -> None:
    window.tabs.setCurrentIndex(1)
    window.show_dlq()
    assert window.isVisible() and window.tabs.currentWidget() is window.dlq


def test_the_initial_status_comes_from_the_bridge(
    qtbot: QtBot, store: JobStore, database: Path, clock: Clock
) -> None:
    bridge = FakeBridge(store, make_status(breaker_state=CircuitState.OPEN, dlq=3))
    window = build_window(qtbot, bridge, database, clock)
    assert window.header.title.text() == "Plex unreachable (circuit open)"
    assert value(window, "dlq") == "3"


# --- store reads: off the UI thread, coalesced, only while shown ---------------------------------


class RecordingStore:
    """A StoreReads double: records the thread of each read; can hold a read until released."""

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.reads = 0
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.closed_on: int | None = None

    def counts(self) -> Any:
        from engine.store.jobs import QueueCounts

        return QueueCounts(0, 0, 0, 0)

    def dlq_list(self, limit: int = 100, offset: int = 0) -> list[Any]:
        self.reads += 1
        self.threads.append(threading.get_ident())
        self.entered.set()
        assert self.gate.wait(5)
        return []

    def dlq_count(self) -> int:
        return 0

    def outages(self, since: float, service: str = "plex") -> list[Any]:
        return []

    def runs(self, since: float) -> list[Any]:
        return []

    def synced_per_minute(self, since: float) -> list[tuple[float, int]]:
        return []

    def synced_since(self, since: float) -> int:
        return 0

    def get_value(self, key: str) -> Any:
        return None

    def close(self) -> None:
        self.closed_on = threading.get_ident()


def test_reads_run_off_the_ui_thread_and_close_there(qtbot: QtBot) -> None:
    fake = RecordingStore()
    reader = StoreReader(Path("unused"), store_factory=lambda: fake)
    try:
        with qtbot.waitSignal(reader.snapshot_ready) as blocker:
            reader.request(Section.ALL)
        assert blocker.args[0].dlq is not None
    finally:
        reader.close()
    assert fake.threads and fake.threads[0] != threading.get_ident()
    assert fake.closed_on == fake.threads[0]


def test_deleting_the_owner_stops_the_reader_thread(qtbot: QtBot) -> None:
    fake = RecordingStore()
    owner = QObject()
    reader = StoreReader(Path("unused"), store_factory=lambda: fake, parent=owner)
    with qtbot.waitSignal(reader.snapshot_ready):
        reader.request(Section.DLQ)
    thread = reader._thread
    assert thread.isRunning()
    shiboken6.delete(owner)  # no close(): the destroyed() safety net must stop the thread
    assert not thread.isRunning()
    assert fake.closed_on == fake.threads[0]


def test_a_burst_of_requests_costs_at_most_two_reads(qtbot: QtBot) -> None:
    fake = RecordingStore()
    fake.gate.clear()
    reader = StoreReader(Path("unused"), store_factory=lambda: fake)
    snapshots: list[Any] = []
    reader.snapshot_ready.connect(snapshots.append)
    try:
        reader.request(Section.DLQ)
        assert fake.entered.wait(5)  # the first read is running and held
        for _ in range(20):
            reader.request(Section.DLQ)
        reader.request(Section.HISTORY)
        fake.gate.set()
        qtbot.waitUntil(lambda: len(snapshots) == 2)
    finally:
        reader.close()
    assert fake.reads == 2
    assert snapshots[1].dlq is not None and snapshots[1].history is not None


def test_a_failed_read_is_reported_and_the_reader_keeps_going(
    qtbot: QtBot, bridge: FakeBridge, database: Path, clock: Clock
) -> None:
    attempts: list[int] = []

    def flaky() -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("database is locked")
        return RecordingStore()

    reader = StoreReader(database, store_factory=flaky, clock=clock)
    window = build_window(qtbot, bridge, database, clock, reader=reader)
    with qtbot.waitSignal(reader.read_failed):
        window.show_and_raise()
    assert "database is locked" in window.statusBar().currentMessage()
    with qtbot.waitSignal(reader.snapshot_ready):
        window.refresh()


def test_nothing_is_read_while_hidden(
    qtbot: QtBot, bridge: FakeBridge, database: Path, clock: Clock
) -> None:
    fake = RecordingStore()
    reader = StoreReader(database, store_factory=lambda: fake, clock=clock)
    window = build_window(qtbot, bridge, database, clock, reader=reader)
    bridge.dead_lettered.emit([])
    bridge.emit_status(make_status(dlq=5))
    with qtbot.assertNotEmitted(reader.snapshot_ready, wait=100):
        pass
    assert fake.reads == 0
    with qtbot.waitSignal(reader.snapshot_ready):
        window.show_and_raise()
    assert fake.reads == 1


def test_reading_never_takes_a_claimed_job_from_the_engine(
    qtbot: QtBot, window: StatusWindow, store: JobStore
) -> None:
    store.enqueue("busy", {"id": "busy"})
    assert store.dequeue(1)  # the engine is working on it
    show_and_wait(qtbot, window)  # the window opens its own store on the same file
    assert store.counts().in_progress == 1


# --- layout -------------------------------------------------------------------------------------


def _min_height(widget: QWidget) -> int:
    """The least height the widget needs at its current width (wrapped text needs less if wide)."""
    if not widget.hasHeightForWidth():
        return widget.minimumSizeHint().height()
    layout = widget.layout()
    if layout is not None:
        return layout.totalMinimumHeightForWidth(widget.width())
    return widget.heightForWidth(widget.width())


def _too_small(root: QWidget) -> list[str]:
    """Visible buttons, line edits and our own widgets that got less than they need."""
    problems = []
    kinds = (QAbstractButton, QLineEdit)
    for widget in root.findChildren(QWidget):
        own = type(widget).__module__.startswith("gui.")
        if not widget.isVisible() or not (own or isinstance(widget, kinds)):
            continue
        width, height = widget.minimumSizeHint().width(), _min_height(widget)
        if widget.width() < width or widget.height() < height:
            problems.append(f"{type(widget).__name__} {widget.size()} < {width}x{height}")
    return problems


def test_the_window_is_usable_at_640_by_480(
    qtbot: QtBot, window: StatusWindow, bridge: FakeBridge, clock: Clock
) -> None:
    bridge.emit_status(
        make_status(
            breaker_state=CircuitState.OPEN,
            retry_at=clock.t + 60,
            auth_error="Plex rejected the token",
            progress=Progress(10, 100, 1.0),
        )
    )
    hint = window.minimumSizeHint()
    assert hint.width() <= 640 and hint.height() <= 480, hint
    window.resize(640, 480)
    window.show_and_raise()
    qtbot.waitExposed(window)
    assert window.size().width() == 640 and window.size().height() == 480
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.waitUntil(lambda: _too_small(window) == [])  # once the posted re-layout has run


SCALED_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from status_fakes import Clock, FakeBridge, make_status
    from engine.breaker import CircuitState
    from engine.events import Progress
    from gui.status_window import StatusWindow
    from test_status_window import _too_small
    clock = Clock()
    status = make_status(breaker_state=CircuitState.OPEN, retry_at=clock.t + 60,
                         auth_error="Plex rejected the token", progress=Progress(1, 9, 1.0))
    window = StatusWindow(FakeBridge(None, status), Path(sys.argv[1]), clock=clock)
    hint = window.minimumSizeHint()
    window.resize(640, 480)
    window.show()
    app.processEvents()
    problems = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        app.processEvents()
        problems += _too_small(window)
    image = window.grab()
    print(json.dumps({
        "ratio": window.devicePixelRatio(),
        "hint": [hint.width(), hint.height()],
        "size": [window.width(), window.height()],
        "pixels": [image.width(), image.height()],
        "problems": problems,
    }))
    window.shutdown()
    """
)


def test_the_window_fits_at_200_percent_scaling(tmp_path: Path) -> None:
    here = Path(__file__).parent
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2")
    env["PYTHONPATH"] = os.pathsep.join([str(here), str(here.parents[1])])
    result = subprocess.run(
        [sys.executable, "-c", SCALED_SCRIPT, str(tmp_path / "db.sqlite3")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ratio"] == 2
    assert report["hint"][0] <= 640 and report["hint"][1] <= 480
    assert report["size"] == [640, 480]
    assert report["pixels"] == [1280, 960]  # really drawn at twice the size
    assert report["problems"] == []
