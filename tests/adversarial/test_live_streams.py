"""Hostile live-update servers on 127.0.0.1 (issue 22, points 5-7): a bad message, a redirect or a
server that closes at once never ends a stream, never prints the token, and a flood of signals
costs a few requests. Every server sends a bounded number of messages; every wait is bounded."""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_clock import FakeClock
from hostile_ws import API_KEY, TOKEN, Served, raw_server, ws_server
from test_sync_engine import make_engine
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection

from engine.config.file import PlexSyncConfig
from engine.live.follow_ups import FOLLOW_UP_GAP
from engine.live.messages import LiveEvent
from engine.live.plex import PlexNotifications
from engine.live.stash import StashJobs
from engine.live.stream import STABLE_AFTER, Backoff, Stream, StreamWorker, Target
from engine.runtime.live import LiveUpdates

WAIT = 15.0  # real seconds any condition may take, at most
FLOOD = 20_000  # messages per flood: enough for hundreds of ticks on the old code


def wait_for(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def _created(item: int) -> str:
    entry = {
        "identifier": "com.plexapp.plugins.library",
        "sectionID": "1",
        "itemID": str(item),
        "type": 1,
        "state": 0,
        "metadataState": "created",
    }
    body = {"type": "timeline", "size": 1, "TimelineEntry": [entry]}
    return json.dumps({"NotificationContainer": body})


def _job_removed(n: int) -> str:
    update = {"type": "REMOVE", "job": {"id": str(n), "status": "FINISHED"}}
    return json.dumps(
        {"id": "jobs", "type": "next", "payload": {"data": {"jobsSubscribe": update}}}
    )


def _hold_open(connection: ServerConnection, seconds: float = WAIT) -> None:
    """Keep the connection until the client leaves (or `seconds` pass)."""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                connection.recv(timeout=0.2)
            except TimeoutError:
                continue
    except ConnectionClosed:
        return


def _stash_handshake(connection: ServerConnection) -> None:
    assert json.loads(connection.recv(timeout=5))["type"] == "connection_init"
    connection.send(json.dumps({"type": "connection_ack"}))
    assert json.loads(connection.recv(timeout=5))["type"] == "subscribe"


def _worker(
    stream: Stream,
    served: Served,
    deliver: Callable[[LiveEvent], None],
    **kwargs: object,
) -> StreamWorker:
    config = served.config()
    kwargs.setdefault("backoff", Backoff(base=0.05, cap=600.0))
    return StreamWorker(
        stream,
        config=lambda: config,
        deliver=deliver,
        rng=random.Random(3),
        **kwargs,  # type: ignore[arg-type]
    )


# --- point 5: one bad message, a proxy's page, a redirect ----------------------------------------


def test_json_nested_a_megabyte_deep_is_skipped_and_the_plex_stream_goes_on() -> None:
    def handler(connection: ServerConnection) -> None:
        connection.send("[" * 500_000)  # RecursionError in json.loads, not ValueError
        connection.send(_created(77))
        _hold_open(connection)

    got: list[LiveEvent] = []
    with ws_server(handler) as served:
        worker = _worker(PlexNotifications(), served, got.append)
        worker.start()
        try:
            assert wait_for(lambda: len(got) >= 2)  # the news and the signal of item 77
            assert worker.alive
        finally:
            worker.stop(2.0)
    assert worker.failures == 0 and served.connections == 1


def test_a_proxy_page_instead_of_the_connection_ack_is_retried_and_shown() -> None:
    def handler(connection: ServerConnection) -> None:
        connection.recv(timeout=5)  # connection_init
        connection.send("<html><body><h1>502 Bad Gateway</h1></body></html>")
        _hold_open(connection, 2.0)

    states: list[tuple[str, str | None]] = []
    with ws_server(handler, subprotocols=["graphql-transport-ws"]) as served:
        worker = _worker(StashJobs(), served, lambda e: None, on_state=lambda *s: states.append(s))
        worker.start()
        try:
            assert wait_for(lambda: served.connections >= 3)  # retried, with backoff
            assert worker.alive
        finally:
            worker.stop(2.0)
    name, reason = states[0]
    assert name == "Stash" and reason is not None and "acknowledge" in reason
    assert "\n" not in reason


def test_a_websocket_redirect_waits_the_cap_and_never_shows_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = (
        "HTTP/1.1 302 Found\r\n"
        f"Location: ws://127.0.0.1:9/elsewhere?X-Plex-Token={TOKEN}\r\n"
        "Content-Length: 0\r\nConnection: close\r\n\r\n"
    ).encode()
    waits: list[float] = []
    with raw_server(answer) as served:

        def wait(seconds: float) -> bool:
            waits.append(seconds)
            if len(waits) < 600:
                return False
            worker.request_stop()
            return True

        worker = _worker(PlexNotifications(), served, lambda e: None, wait=wait)
        with caplog.at_level(logging.DEBUG, logger="engine.live.stream"):
            worker._run()  # on this thread: the redirect must not escape
    assert served.connections == 1  # and it waited the cap (600 one-second steps)
    assert sum(waits) == pytest.approx(600.0)
    assert worker.failures == 1
    assert TOKEN not in caplog.text and "redirect" in caplog.text


def test_an_uncaught_error_in_any_thread_reaches_stderr_masked(tmp_path: Path) -> None:
    script = f"""
import threading
from engine.runtime.logs import setup_logging
from engine.masking import SecretMasker
setup_logging(None, SecretMasker(["{API_KEY}"]))
def boom():
    raise ValueError("cannot follow redirect to ws://h/x?X-Plex-Token={TOKEN}")
thread = threading.Thread(target=boom, name="live-Plex")
thread.start()
thread.join()
raise RuntimeError("main thread failed with key {API_KEY}")
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1
    assert TOKEN not in done.stderr and API_KEY not in done.stderr
    assert "Uncaught error in thread live-Plex" in done.stderr
    assert "ValueError" in done.stderr and "RuntimeError" in done.stderr


def test_the_engine_status_says_which_stream_is_off_and_why(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with ws_server(lambda connection: None) as served:  # accepts, then closes at once
        engine, *_ = make_engine(tmp_path, fake_clock, plex_url=f"http://127.0.0.1:{served.port}")
        live = LiveUpdates(
            engine, streams=[PlexNotifications()], backoff=Backoff(base=0.05, cap=600.0)
        ).start()
        try:
            assert wait_for(lambda: served.connections >= 1)

            def off() -> bool:
                engine.tick()
                return engine.status().live_error is not None

            assert wait_for(off)
        finally:
            live.stop()
    error = engine.status().live_error
    assert error is not None and error.startswith("Plex: ConnectionClosed")
    assert TOKEN not in error


def test_a_dead_stream_thread_is_started_again_and_said(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    died: list[str] = []
    threading.excepthook = lambda args: died.append(args.exc_type.__name__)  # restored after

    class Dying(PlexNotifications):
        def target(self, config: PlexSyncConfig) -> Target | None:
            if not died:
                raise SystemExit  # not an Exception: the one way left to end the thread
            return None  # started again: live updates "off in the settings" from now on

    engine, *_ = make_engine(tmp_path, fake_clock)
    live = LiveUpdates(engine, streams=[Dying()]).start()
    try:
        (worker,) = live.workers
        assert wait_for(lambda: not worker.alive)
        engine.tick()
        assert engine.status().live_error == "Plex: the thread stopped (SystemExit)"
        engine.sync_now()  # any command wakes the engine, which looks after the threads
        assert worker.alive
        assert wait_for(lambda: (engine.tick(), engine.status().live_error is None)[1])
    finally:
        live.stop()
    assert died == ["SystemExit"]


# --- point 6: a flood of signals ------------------------------------------------------------------


def _drive(engine: object, clock: FakeClock, done: Callable[[], bool]) -> float:
    """Tick with 10 ms of fake time per tick until `done`; returns the fake seconds passed."""
    started = clock.monotonic()
    deadline = time.monotonic() + WAIT * 2
    while not done() and time.monotonic() < deadline:
        engine.tick(budget=0.05)  # type: ignore[attr-defined]
        clock.advance(0.01)
    for _ in range(3):
        engine.tick(budget=0.05)  # type: ignore[attr-defined]
    return clock.monotonic() - started


def test_a_flood_of_plex_notifications_while_a_scene_waits_makes_a_few_listings(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, stash, store, _ = make_engine(tmp_path, fake_clock, scenes=2)
    stash.put(3)  # its file is not in Plex: it waits, and every "items added" looks for it
    engine.tick()
    assert store.waiting_not_found()
    sent = threading.Event()

    def handler(connection: ServerConnection) -> None:
        for n in range(FLOOD):
            connection.send(_created(5000 + n))
        sent.set()
        _hold_open(connection)

    delivered = [0]

    def deliver(event: LiveEvent) -> None:
        delivered[0] += 1
        engine.live_signal(event)

    with ws_server(handler) as served:
        plex.calls.clear()
        worker = _worker(PlexNotifications(), served, deliver)
        worker.start()
        try:
            fake_seconds = _drive(
                engine, fake_clock, lambda: sent.is_set() and delivered[0] >= 2 * FLOOD
            )
        finally:
            worker.stop(2.0)
    listings = plex.calls.count("sweep")
    assert delivered[0] == 2 * FLOOD  # every message read (news and signal)
    assert 1 <= listings <= 2 + fake_seconds / FOLLOW_UP_GAP, (listings, fake_seconds)


def test_a_flood_of_stash_job_ends_makes_a_few_polls(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, _, stash, _, _ = make_engine(tmp_path, fake_clock, scenes=2, poll_interval=3600)
    engine.tick()
    fake_clock.advance(11.0)
    engine.tick()  # the first poll and its settle pass
    sent = threading.Event()

    def handler(connection: ServerConnection) -> None:
        _stash_handshake(connection)
        for n in range(FLOOD):
            connection.send(_job_removed(n))
        sent.set()
        _hold_open(connection)

    delivered = [0]

    def deliver(event: LiveEvent) -> None:
        delivered[0] += 1
        engine.live_signal(event)

    with ws_server(handler, subprotocols=["graphql-transport-ws"]) as served:
        before = len(stash.requests)
        worker = _worker(StashJobs(), served, deliver)
        worker.start()
        try:
            fake_seconds = _drive(
                engine, fake_clock, lambda: sent.is_set() and delivered[0] >= FLOOD
            )
        finally:
            worker.stop(2.0)
    polls = len(stash.requests) - before
    assert delivered[0] == FLOOD
    # A poll reads one scene page here; one poll per gap, plus the first at once.
    assert 1 <= polls <= 2 + fake_seconds / FOLLOW_UP_GAP, (polls, fake_seconds)


# --- point 7: a server that accepts and closes at once --------------------------------------------


def test_a_server_that_accepts_and_closes_at_once_is_retried_ever_more_slowly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    waited: list[float] = []
    reconnects = 12

    with ws_server(lambda connection: None) as served:

        def wait(seconds: float) -> bool:
            clock.advance(seconds)  # fake time: a day's backoff passes in milliseconds
            waited.append(seconds)
            if served.connections >= reconnects:
                worker.request_stop()
                return True
            return False

        worker = _worker(
            PlexNotifications(),
            served,
            lambda e: None,
            wait=wait,
            clock=clock,
            backoff=Backoff(base=2.0, cap=600.0),
        )
        with caplog.at_level(logging.DEBUG, logger="engine.live.stream"):
            worker._run()
    assert worker.connections >= reconnects - 1
    # Without the reset on each handshake the waits grow to the cap: 1-2 s, 2-4 s, ... 600 s.
    assert sum(waited) > 10 * STABLE_AFTER
    infos = [
        r
        for r in caplog.records
        if r.levelno >= logging.INFO and r.name.startswith("engine.live.stream")
    ]
    assert len(infos) <= 3, [r.getMessage() for r in infos]  # said once, not per reconnect
