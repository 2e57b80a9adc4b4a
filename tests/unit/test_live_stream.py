"""Live updates without sockets: message parsing, backoff, folding signals, masking."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest
from fake_clock import FakeClock
from test_sync_engine import make_engine, run_ticks
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from engine.config.file import PlexSyncConfig
from engine.errors import TransientError
from engine.live.messages import (
    LiveSignal,
    MalformedMessageError,
    graphql_ws_message,
    plex_signal,
    stash_signal,
)
from engine.live.plex import PlexNotifications
from engine.live.stash import StashJobs
from engine.live.stream import WIRE_LOGGER, Backoff, StreamWorker, Target, ws_url

ADDED = LiveSignal.PLEX_ITEMS_ADDED


def _timeline(**entry: object) -> str:
    base = {"identifier": "com.plexapp.plugins.library", "sectionID": "1", "itemID": "7"}
    body = {"type": "timeline", "size": 1, "TimelineEntry": [{**base, **entry}]}
    return json.dumps({"NotificationContainer": body})


def _activity(event: str, kind: str = "library.update.section") -> str:
    note = {"event": event, "uuid": "u", "Activity": {"uuid": "u", "type": kind}}
    body = {"type": "activity", "size": 1, "ActivityNotification": [note]}
    return json.dumps({"NotificationContainer": body})


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (_timeline(type=1, state=0, metadataState="created"), ADDED),
        (_timeline(type=1, state=0), ADDED),
        (_timeline(type=1, state=5), None),  # an edit (ours, often): nothing new
        (_timeline(type=1, state=False), None),  # a bool is not state 0
        (_timeline(type=1, state=0, identifier="com.plexapp.agents.none"), None),
        (_activity("ended"), ADDED),
        (_activity("started"), None),
        (_activity("ended", kind="media.generate.thumbs"), None),
        ('{"NotificationContainer": {"type": "timeline", "TimelineEntry": "x"}}', None),
        (
            '{"NotificationContainer": {"type": "activity", "ActivityNotification": [1, null]}}',
            None,
        ),
        ('{"NotificationContainer": []}', None),
        ('{"NotificationContainer": {"type": "status", "StatusNotification": []}}', None),
        ("[1, 2]", None),
        ("not json {", None),
        (b"\xff\xfe", None),
    ],
)
def test_plex_messages_parse_leniently(message: str | bytes, expected: LiveSignal | None) -> None:
    assert plex_signal(message) is expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"data": {"jobsSubscribe": {"type": "REMOVE", "job": {"status": "FINISHED"}}}}, True),
        ({"data": {"jobsSubscribe": {"type": "REMOVE", "job": {"status": "FAILED"}}}}, True),
        ({"data": {"jobsSubscribe": {"type": "UPDATE", "job": {"status": "RUNNING"}}}}, False),
        ({"data": {"jobsSubscribe": {"type": "ADD"}}}, False),
        ({"data": None, "errors": [{"message": "boom"}]}, False),
        ({"data": {"jobsSubscribe": "REMOVE"}}, False),
        ("REMOVE", False),
        (None, False),
    ],
)
def test_stash_job_updates_parse_leniently(payload: object, expected: bool) -> None:
    assert (stash_signal(payload) is LiveSignal.STASH_JOB_ENDED) is expected


def test_graphql_ws_messages_need_a_type() -> None:
    assert graphql_ws_message('{"type": "next", "id": "jobs", "payload": {}}').id == "jobs"
    for bad in ('{"id": "1"}', '{"type": 3}', "[]", "{", '"ka"'):
        with pytest.raises(MalformedMessageError):
            graphql_ws_message(bad)


def test_ws_url_keeps_the_configured_origin() -> None:
    assert ws_url("http://plex.lan:32400", "/x") == "ws://plex.lan:32400/x"
    assert ws_url("https://h.example/stash/", "/graphql") == "wss://h.example/stash/graphql"


def _config(**changes: object) -> PlexSyncConfig:
    base: dict[str, object] = {
        "plex_url": "https://plex.lan:32400",
        "plex_token": "sEcReT-token-123",
        "stash_url": "http://stash.lan:9999",
        "stash_api_key": "sEcReT-key-456",
    }
    return PlexSyncConfig(**{**base, **changes})


def test_targets_carry_credentials_only_to_the_configured_origin() -> None:
    plex = PlexNotifications().target(_config())
    assert plex is not None
    assert plex.url == (
        "wss://plex.lan:32400/:/websockets/notifications?X-Plex-Token=sEcReT-token-123"
    )
    assert "sEcReT" not in plex.shown
    stash = StashJobs().target(_config())
    assert stash is not None
    assert stash.url == "ws://stash.lan:9999/graphql"
    assert stash.headers == {"ApiKey": "sEcReT-key-456"}
    assert stash.subprotocols == ("graphql-transport-ws",)


def test_live_updates_off_means_no_stream() -> None:
    config = _config(live_updates=False)
    assert PlexNotifications().target(config) is None
    assert StashJobs().target(config) is None


def test_wire_log_lines_mask_the_token(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="engine.live.stream.wire"):
        WIRE_LOGGER.debug("> GET %s HTTP/1.1", "/:/websockets/notifications?X-Plex-Token=abc123")
        WIRE_LOGGER.debug("> %s: %s", "ApiKey", "k3y-value")
    text = caplog.text
    assert "abc123" not in text and "k3y-value" not in text
    assert "X-Plex-Token=********" in text


class _FailingStream:
    """A stream whose every connection attempt fails with `error`; records attempt times."""

    name = "Fake"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.attempts: list[float] = []

    def target(self, config: PlexSyncConfig) -> Target:
        self.attempts.append(self.clock.monotonic())
        return Target("ws://127.0.0.1:9/x?X-Plex-Token=t0ken-value", "ws://127.0.0.1:9/x")

    def session(self, *args: object) -> None:
        raise AssertionError("never connects")


def _run_failing(
    error: Exception, attempts: int, backoff: Backoff
) -> tuple[list[float], StreamWorker]:
    clock = FakeClock()
    stream = _FailingStream(clock)
    config = _config()

    def wait(seconds: float) -> bool:
        clock.advance(seconds)
        if len(stream.attempts) >= attempts:
            worker.request_stop()
            return True
        return False

    worker = StreamWorker(
        stream,
        config=lambda: config,
        deliver=lambda s: None,
        rng=random.Random(7),
        backoff=backoff,
        wait=wait,
    )

    def fail(target: Target) -> object:
        raise error

    worker._open_socket = fail  # type: ignore[method-assign]
    worker._run()  # on this thread: no thread, no socket, fake time
    gaps = [b - a for a, b in zip(stream.attempts, stream.attempts[1:], strict=False)]
    return gaps, worker


def test_reconnects_back_off_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(base=2.0, cap=60.0)
    gaps, worker = _run_failing(ConnectionRefusedError(111, "refused"), 10, backoff)
    windows = [min(60.0, 2.0 * 2**n) for n in range(len(gaps))]
    for gap, window in zip(gaps, windows, strict=True):
        assert window * 0.5 <= gap <= window + 1e-9
    assert max(gaps) <= 60.0 and gaps[-1] >= 30.0  # capped, and still waiting long
    assert len(set(gaps)) == len(gaps)  # jittered
    assert worker.failures == 10


def test_a_refused_handshake_is_retried_slowly_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = InvalidStatus(Response(404, "Not Found", Headers()))
    with caplog.at_level(logging.DEBUG, logger="engine.live.stream"):
        gaps, _ = _run_failing(refused, 3, Backoff(base=2.0, cap=600.0))
    assert gaps == [600.0, 600.0]
    infos = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(infos) == 1 and "polling continues" in infos[0].getMessage()
    assert all(r.levelno < logging.WARNING for r in caplog.records)


@pytest.mark.parametrize(("status", "reason"), [(502, "Bad Gateway"), (503, "Unavailable")])
def test_an_upgrade_refused_while_restarting_is_retried_within_seconds(
    status: int, reason: str
) -> None:
    # A proxy's 502 while Plex restarts, or Plex's own 503 while it starts: soon it upgrades.
    refused = InvalidStatus(Response(status, reason, Headers()))
    gaps, worker = _run_failing(refused, 6, Backoff(base=2.0, cap=600.0))
    windows = [min(600.0, 2.0 * 2**n) for n in range(len(gaps))]
    for gap, window in zip(gaps, windows, strict=True):
        assert window * 0.5 <= gap <= window + 1e-9  # 1-2 s, 2-4 s, ... jittered, growing
    assert gaps[0] <= 2.0 and max(gaps) < 600.0
    assert len(set(gaps)) == len(gaps)
    assert worker.failures == 6


def test_an_upgrade_that_will_never_happen_waits_the_cap() -> None:
    for status in (400, 401, 403, 404, 405):
        gaps, _ = _run_failing(
            InvalidStatus(Response(status, "No", Headers())), 3, Backoff(base=2.0, cap=600.0)
        )
        assert gaps == [600.0, 600.0], status


def test_failure_logs_never_show_the_token(caplog: pytest.LogCaptureFixture) -> None:
    error = OSError("cannot reach ws://h/x?X-Plex-Token=t0ken-value")
    with caplog.at_level(logging.DEBUG, logger="engine.live.stream"):
        _run_failing(error, 2, Backoff())
    assert "t0ken-value" not in caplog.text


def test_a_burst_of_plex_signals_is_one_refresh_and_readies_the_scene(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, stash, store, _ = make_engine(tmp_path, fake_clock, scenes=2)
    stash.put(3)  # its file (/media/3.mp4) is not in Plex yet
    engine.tick()  # one attempt, then a not-found wait (no time passes: jitter cannot end it)
    job = store.get_job("3")
    assert job is not None and job.attempts == 1 and job.not_before > fake_clock.now()
    plex.items["2000"] = plex.items["1000"].__class__(
        "2000", "1", "three", "", "", "", (), (), (), ("/media/3.mp4",), 99
    )
    plex.calls.clear()
    for _ in range(50):
        engine.live_signal(LiveSignal.PLEX_ITEMS_ADDED)
    engine.tick()
    assert plex.calls.count("sweep") == 1  # fifty signals, one incremental read
    assert store.get_job("3") is None
    assert [rk for rk, _ in plex.edits][-1] == "2000"


def test_a_plex_signal_with_nothing_waiting_sends_nothing(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, _, _, _ = make_engine(tmp_path, fake_clock, scenes=2)
    run_ticks(engine, fake_clock, 1.0)
    plex.calls.clear()
    engine.live_signal(LiveSignal.PLEX_ITEMS_ADDED)
    engine.tick()
    assert "sweep" not in plex.calls and "sections" not in plex.calls


def test_a_stash_job_end_polls_at_once(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, stash, _, _ = make_engine(tmp_path, fake_clock, scenes=2, poll_interval=3600)
    engine.tick()  # the first poll
    fake_clock.advance(11.0)
    engine.tick()  # its settle pass, 10 s later
    polls = len(stash.requests)
    stash.put(1, title="Identified")
    engine.tick()
    assert len(stash.requests) == polls  # the poll interval has not passed
    engine.live_signal(LiveSignal.STASH_JOB_ENDED)
    engine.tick()
    assert len(stash.requests) > polls
    assert any("Identified" in str(params) for _, params in plex.edits)


def test_a_failing_refresh_counts_like_any_plex_call(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, stash, store, _ = make_engine(tmp_path, fake_clock, scenes=2)
    stash.put(3)
    engine.tick()  # one attempt, then a not-found wait (no time passes: jitter cannot end it)
    plex.fail_with = TransientError("Plex answered 503")
    engine.live_signal(LiveSignal.PLEX_ITEMS_ADDED)
    engine.tick()
    job = store.get_job("3")
    assert job is not None and job.attempts == 1  # the job's budget is untouched
    assert engine.breaker.failure_count >= 1


class _ShortLivedStream(_FailingStream):
    """Connects, stays up `up` fake seconds, then the server closes."""

    def __init__(self, clock: FakeClock, up: list[float]) -> None:
        super().__init__(clock)
        self.up = up

    def session(self, *args: object) -> None:
        self.clock.advance(self.up.pop(0) if self.up else 0.0)
        raise OSError("closed by the server")


def test_the_backoff_starts_again_only_after_a_connection_lasted_a_minute() -> None:
    clock = FakeClock()
    stream = _ShortLivedStream(clock, [0.0, 0.0, 0.0, 0.0, 61.0, 0.0])
    config = _config()
    delays: list[float] = []

    def wait(seconds: float) -> bool:
        clock.advance(seconds)
        if len(stream.attempts) >= 7:
            worker.request_stop()
            return True
        return False

    worker = StreamWorker(
        stream,
        config=lambda: config,
        deliver=lambda s: None,
        rng=random.Random(7),
        backoff=Backoff(base=2.0, cap=600.0),
        wait=wait,
        clock=clock,
    )
    worker._open_socket = lambda target: _NullSocket()  # type: ignore[method-assign, assignment, return-value]
    worker._connect = lambda sock, target: _NullConnection()  # type: ignore[method-assign, assignment, return-value]
    original = worker._failed

    def failed(exc: BaseException, *, connected_for: float | None) -> float:
        delay = original(exc, connected_for=connected_for)
        delays.append(delay)
        return delay

    worker._failed = failed  # type: ignore[method-assign]
    worker._run()
    windows = [2.0, 4.0, 8.0, 16.0, 2.0, 4.0]  # the fifth connection lasted 61 s: a new streak
    for delay, window in zip(delays, windows, strict=False):
        assert window * 0.5 <= delay <= window
    assert len(delays) >= 6


class _NullSocket:
    def close(self) -> None:
        pass


class _NullConnection:
    def __enter__(self) -> _NullConnection:
        return self

    def __exit__(self, *args: object) -> None:
        pass
