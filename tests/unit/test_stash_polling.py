"""StashPolling on its own, with a scripted poll: what each outcome does to health and progress."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_parts import Parts, make_parts, open_settle_window

from engine.errors import AuthError, StashQueryError, SyncError, UnreachableError
from engine.events import ServiceHealth
from engine.poll.scheduler import PollOutcome
from engine.sync.stash_polling import StashPolling


class ScriptedPolls:
    """A PollScheduler that answers each poll with the next scripted outcome."""

    def __init__(self, *outcomes: PollOutcome) -> None:
        self.outcomes = list(outcomes)
        self.is_due = True
        self.polled: list[float] = []
        self.skipped: list[float] = []

    def due(self) -> bool:
        return self.is_due

    def poll(self, interval: float, stop: threading.Event) -> PollOutcome:
        self.polled.append(interval)
        return self.outcomes.pop(0)

    def skip(self, interval: float) -> None:
        self.skipped.append(interval)


def polling(parts: Parts, polls: ScriptedPolls) -> StashPolling:
    return StashPolling(
        polls=polls,  # type: ignore[arg-type]
        services=parts.services,
        progress=parts.progress,
        clock=parts.clock,
        wake=parts.wake,
        stop=parts.stop,
        config=lambda: parts.config,
    )


def stash_error(exc: SyncError) -> SyncError:
    exc.service = "stash"
    return exc


def test_a_poll_that_queues_scenes_starts_the_bulk_and_says_stash_is_up(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    parts.services.set_auth_error("Stash rejected the key", "stash")
    polls = ScriptedPolls(PollOutcome(added=40))
    polling(parts, polls).maybe_poll()
    assert polls.polled == [10]  # the poll interval bounds the poll's own wait
    assert parts.progress.current is not None and parts.progress.current.total == 40
    assert parts.services.stash_health is ServiceHealth.OK
    assert parts.services.last_checked_at == fake_clock.now()
    assert parts.services.auth_error is None  # the poll was also the check of the key


def test_nothing_happens_when_no_poll_is_due(tmp_path: Path, fake_clock: FakeClock) -> None:
    parts = make_parts(tmp_path, fake_clock)
    polls = ScriptedPolls()
    polls.is_due = False
    polling(parts, polls).maybe_poll()
    assert polls.polled == [] and parts.services.stash_health is ServiceHealth.UNKNOWN


def test_an_unreachable_stash_is_shown_and_logged(
    tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    down = stash_error(UnreachableError("Stash is unreachable", "refused"))
    caplog.set_level(logging.WARNING, logger="engine.sync.stash_polling")
    polling(parts, ScriptedPolls(PollOutcome(error=down))).maybe_poll()
    assert parts.services.stash_health is ServiceHealth.UNREACHABLE
    assert parts.services.last_error == "Stash is unreachable (refused)"
    assert parts.services.last_checked_at is None
    assert "Polling Stash failed" in caplog.text
    assert parts.breaker.snapshot().failure_count == 0  # never Plex's breaker


def test_a_refusal_said_again_goes_to_the_log_once(
    tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    refused = [PollOutcome(error=StashQueryError("Stash refused", "bad query")) for _ in range(3)]
    driver = polling(parts, ScriptedPolls(*refused))
    caplog.set_level(logging.WARNING, logger="engine.sync.stash_polling")
    for _ in range(3):
        driver.maybe_poll()
    assert caplog.text.count("Polling Stash failed") == 1
    assert parts.services.stash_health is ServiceHealth.OK  # a refusal is an answer


def test_right_after_a_wake_an_outage_is_quiet_and_the_poll_waits_for_the_settle(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    open_settle_window(parts)
    polls = ScriptedPolls(PollOutcome(error=stash_error(UnreachableError("Stash is unreachable"))))
    polling(parts, polls).maybe_poll()
    assert parts.services.stash_health is ServiceHealth.UNKNOWN
    assert parts.services.last_error is None
    assert polls.skipped == [pytest.approx(parts.wake.settle_until - fake_clock.monotonic())]


def test_a_rejected_key_pauses_for_stash(tmp_path: Path, fake_clock: FakeClock) -> None:
    parts = make_parts(tmp_path, fake_clock)
    refused = AuthError("Stash rejected the API key", service="stash")
    polling(parts, ScriptedPolls(PollOutcome(error=refused))).maybe_poll()
    assert (parts.services.auth_service, parts.services.stash_health) == (
        "stash",
        ServiceHealth.AUTH_FAILED,
    )
    assert parts.heard.auth == [("stash", "Stash rejected the API key")]
