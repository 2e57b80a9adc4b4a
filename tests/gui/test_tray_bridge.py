"""The bridge hosts the engine on a worker thread and turns its listener calls into signals."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot
from tray_fakes import FakeEngine, make_status

from engine.breaker import CircuitState
from engine.config.file import PlexSyncConfig
from engine.events import JobOutcome, Progress
from gui.bridge import EngineBridge


@pytest.fixture
def bridge(qtbot: QtBot) -> Iterator[EngineBridge]:
    bridge = EngineBridge()
    yield bridge
    assert bridge.stop(), "the engine thread must stop within 2 s"


def start(bridge: EngineBridge, **kwargs: object) -> FakeEngine:
    engine = FakeEngine(bridge.listener, **kwargs)  # type: ignore[arg-type]
    bridge.attach(engine)
    bridge.start()
    return engine


def test_engine_events_arrive_as_signals_on_the_gui_thread(
    qtbot: QtBot, bridge: EngineBridge
) -> None:
    engine = start(bridge)
    gui_thread = threading.get_ident()
    seen: dict[str, tuple[object, int]] = {}

    def record(name: str):  # type: ignore[no-untyped-def]
        return lambda *args: seen.__setitem__(name, (args, threading.get_ident()))

    for name in (
        "status_changed",
        "breaker_changed",
        "job_finished",
        "dead_lettered",
        "progress_changed",
        "auth_failed",
    ):
        getattr(bridge, name).connect(record(name))
    outcome = JobOutcome("7", "Scene 7", ok=False, error_class="permanent", dead_lettered=True)
    progress = Progress(done=3, total=10, rate=1.5)

    def emit_all(listener):  # type: ignore[no-untyped-def]
        listener.breaker_changed(CircuitState.CLOSED, CircuitState.OPEN)
        listener.job_finished(outcome)
        listener.dead_lettered([outcome])
        listener.progress_changed(progress)
        listener.auth_failed("plex", "Plex rejected the token")
        # Through the fake's own snapshot: a later tick (sync_now's, if the worker ran the
        # script before the command arrived) then publishes dlq=1 too, never an older status.
        engine.set_status(dlq=1)

    with qtbot.waitSignal(bridge.status_changed, timeout=10_000):
        engine.script.append(emit_all)
        bridge.sync_now()  # wakes the worker at once
    qtbot.waitUntil(lambda: len(seen) == 6, timeout=10_000)

    assert engine.tick_threads and gui_thread not in engine.tick_threads
    assert {thread for _args, thread in seen.values()} == {gui_thread}
    assert seen["breaker_changed"][0] == ("closed", "open")
    assert seen["job_finished"][0] == (outcome,)
    assert seen["dead_lettered"][0] == ([outcome],)
    assert seen["progress_changed"][0] == (progress,)
    assert seen["auth_failed"][0] == ("plex", "Plex rejected the token")
    # The dlq=1 snapshot is the last one the fake publishes, but a snapshot read before it
    # (the worker's own publish after the command) may still be in the GUI thread's queue.
    qtbot.waitUntil(lambda: bridge.status is not None and bridge.status.dlq == 1, timeout=10_000)


def test_statuses_published_inside_one_tick_arrive_in_order(
    qtbot: QtBot, bridge: EngineBridge
) -> None:
    """The engine publishes on each breaker transition; a one-probe HALF_OPEN is not lost."""
    engine = start(bridge, status=make_status(breaker_state=CircuitState.OPEN, retry_at=5.0))
    states: list[CircuitState] = []
    bridge.status_changed.connect(lambda status: states.append(status.breaker_state))

    def probe_succeeds(listener):  # type: ignore[no-untyped-def]
        listener.breaker_changed(CircuitState.OPEN, CircuitState.HALF_OPEN)
        listener.status_changed(make_status(breaker_state=CircuitState.HALF_OPEN))
        listener.breaker_changed(CircuitState.HALF_OPEN, CircuitState.CLOSED)
        listener.status_changed(make_status(pending=2))

    engine.script.append(probe_succeeds)
    bridge.sync_now()
    qtbot.waitUntil(
        lambda: bridge.status is not None and bridge.status.pending == 2, timeout=10_000
    )
    half = states.index(CircuitState.HALF_OPEN)
    assert states[half + 1] is CircuitState.CLOSED


def test_status_is_read_at_attach_time(bridge: EngineBridge) -> None:
    engine = FakeEngine(bridge.listener, status=make_status(pending=4))
    bridge.attach(engine)
    assert bridge.status is not None and bridge.status.pending == 4


def test_commands_reach_the_engine_and_wake_it(qtbot: QtBot, bridge: EngineBridge) -> None:
    engine = start(bridge, next_delay=30.0)  # without a wake-up nothing would happen for 30 s
    qtbot.waitUntil(lambda: engine.ticks >= 1, timeout=10_000)
    config = PlexSyncConfig(plex_url="http://127.0.0.1:1", plex_token="t0ken-value")

    with qtbot.waitSignal(bridge.status_changed, timeout=10_000):
        bridge.pause(1234.0)
    bridge.resume()
    bridge.sync_now()
    bridge.retry_now()
    bridge.reset_breaker()
    bridge.apply_config(config)
    bridge.dlq_retry([3, 4])
    bridge.dlq_delete(None)
    qtbot.waitUntil(lambda: engine.applied == [config], timeout=10_000)

    assert engine.calls == [
        ("pause", (1234.0,)),
        ("resume", ()),
        ("sync_now", ()),
        ("retry_now", ()),
        ("reset_breaker", ()),
        ("apply_config", (config,)),
        ("dlq_retry", ([3, 4],)),
        ("dlq_delete", (None,)),
    ]


def test_a_failing_tick_is_logged_and_ticking_goes_on(
    qtbot: QtBot, bridge: EngineBridge, caplog: pytest.LogCaptureFixture
) -> None:
    engine = start(bridge)
    failures = []

    def explode(_listener):  # type: ignore[no-untyped-def]
        failures.append(1)
        raise RuntimeError("boom")

    engine.script.append(explode)
    bridge.sync_now()
    qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    ticks = engine.ticks
    bridge.sync_now()
    qtbot.waitUntil(lambda: engine.ticks > ticks, timeout=3000)
    assert bridge.is_running()
    assert "failed during a tick" in caplog.text


def test_stop_with_a_job_in_flight_loses_nothing(qtbot: QtBot) -> None:
    bridge = EngineBridge()
    engine = start(bridge, jobs={"41": "pending", "42": "pending"})
    assert engine.job_started.wait(2.0)
    assert engine.jobs["41"] == "in_progress"

    with qtbot.waitSignal(bridge.stopped, timeout=3000):
        assert bridge.stop(timeout=2.0)

    assert engine.stop_requested.is_set()
    assert not bridge.is_running()
    assert engine.jobs == {"41": "pending", "42": "pending"}  # interrupted, put back, not lost


def test_stop_is_idempotent_and_safe_before_start() -> None:
    bridge = EngineBridge()
    assert bridge.stop()
    bridge.attach(FakeEngine(bridge.listener))
    assert bridge.stop()


def test_start_needs_an_engine() -> None:
    with pytest.raises(RuntimeError):
        EngineBridge().start()


def test_engine_commands_failing_are_logged_not_raised(
    bridge: EngineBridge, caplog: pytest.LogCaptureFixture
) -> None:
    class Refusing(FakeEngine):
        def apply_config(self, config: object) -> None:
            raise TypeError("apply_config needs a PlexSyncConfig")

    bridge.attach(Refusing(bridge.listener))
    bridge.apply_config("not a config")
    assert "rejected the command apply_config" in caplog.text


def test_stop_gives_up_after_the_timeout_and_can_be_retried(qtbot: QtBot) -> None:
    class Stubborn(FakeEngine):
        def request_stop(self) -> None:
            pass  # the call in hand cannot be interrupted

    bridge = EngineBridge()
    engine = Stubborn(bridge.listener, jobs={"9": "pending"})
    bridge.attach(engine)
    bridge.start()
    assert engine.job_started.wait(2.0)
    assert not bridge.stop(timeout=0.2)
    assert bridge.is_running()  # still referenced, so Qt never destroys a running thread
    engine.release.set()  # the call returns
    assert bridge.stop(timeout=2.0)
    assert engine.jobs["9"] == "synced"
