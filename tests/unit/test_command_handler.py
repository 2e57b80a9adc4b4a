"""CommandHandler on its own: what each command leaves behind, with a fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_parts import Parts, make_parts

from engine.breaker import CircuitState
from engine.errors import AuthError, TransientError
from engine.live.follow_ups import FOLLOW_UP_GAP
from engine.live.messages import LiveSignal
from engine.live.processing import NewItemWatch
from engine.push.pusher import ScenePusher
from engine.sync.command_bodies import CommandHandler


class Polls:
    """The part of PollScheduler commands use: asking for a poll soon."""

    def __init__(self) -> None:
        self.asked = 0

    def poll_soon(self) -> None:
        self.asked += 1


class Pusher(ScenePusher):
    def __init__(self, parts: Parts) -> None:
        super().__init__(parts.clock, parts.store)
        self.refreshed = 0

    def refresh_index(self) -> None:
        self.refreshed += 1
        super().refresh_index()


@pytest.fixture
def parts(tmp_path: Path, fake_clock: FakeClock) -> Parts:
    return make_parts(tmp_path, fake_clock)


def handler_for(parts: Parts) -> tuple[CommandHandler, Polls, Pusher]:
    polls, pusher = Polls(), Pusher(parts)
    handler = CommandHandler(
        store=parts.store,
        clock=parts.clock,
        breaker=parts.breaker,
        services=parts.services,
        polls=polls,  # type: ignore[arg-type]
        pusher=pusher,
        clients=parts.clients,
        new_items=NewItemWatch(parts.clock),
        config=lambda: parts.config,
    )
    return handler, polls, pusher


def test_reset_closes_the_breaker_and_asks_plex_at_once(parts: Parts) -> None:
    handler, _, _ = handler_for(parts)
    parts.breaker.trip()
    parts.services.on_failure(TransientError("Plex answered 503", retry_after=60))
    handler.reset_breaker()
    assert parts.breaker.state is CircuitState.CLOSED
    assert not parts.services.plex_held and parts.services.next_probe_at == float("-inf")
    assert parts.services.plex_checking and not parts.services.resetting
    parts.services.plex_answered(ok=False, down=True)  # Plex did not answer the reset's try
    assert parts.breaker.state is CircuitState.OPEN


def test_retry_now_tries_plex_and_frees_the_jobs_waiting_on_backoff(parts: Parts) -> None:
    handler, _, _ = handler_for(parts)
    parts.store.enqueue("7", {"title": "t"})
    (job,) = parts.store.dequeue(1)
    parts.store.release(job, not_before=parts.clock.now() + 600, attempts=1, error="e")
    parts.breaker.trip()
    parts.services.on_failure(AuthError("Plex rejected the token", service="plex"))
    handler.retry_now()
    assert parts.breaker.state is CircuitState.HALF_OPEN
    assert parts.services.auth_error is None and parts.services.plex_checking
    assert (parts.store.next_ready_at() or 0) <= parts.clock.now()  # was 600 s away


def test_sync_now_polls_soon_and_lifts_a_hold(parts: Parts) -> None:
    handler, polls, _ = handler_for(parts)
    parts.services.on_failure(TransientError("Plex answered 503", retry_after=60))
    handler.sync_now()
    assert polls.asked == 1 and not parts.services.plex_held


def test_resume_ends_the_pause_and_polls_at_once(parts: Parts) -> None:
    handler, polls, _ = handler_for(parts)
    handler.pause(parts.clock.now() + 3600)
    assert parts.services.paused
    handler.resume()
    assert not parts.services.paused and polls.asked == 1


def test_a_flood_of_stash_job_signals_is_one_poll_per_gap(parts: Parts) -> None:
    handler, polls, _ = handler_for(parts)
    for _ in range(1000):
        if handler.live_gate.offer(LiveSignal.STASH_JOB_ENDED):
            handler.live_signal(LiveSignal.STASH_JOB_ENDED)
        handler.run_follow_ups()
    assert polls.asked == 1
    parts.clock.advance(FOLLOW_UP_GAP)
    handler.run_follow_ups()
    assert polls.asked == 2  # the last signal of the flood is never lost


def test_new_plex_items_are_not_followed_up_while_plex_is_unusable(parts: Parts) -> None:
    handler, _, _ = handler_for(parts)
    parts.breaker.trip()
    handler.live_signal(LiveSignal.PLEX_ITEMS_ADDED)
    handler.run_follow_ups()
    assert parts.plex.calls == []  # the jobs' own backoff brings them back


def test_processed_items_free_their_jobs_on_a_fresh_index(parts: Parts) -> None:
    handler, _, pusher = handler_for(parts)
    handler.release_processed([])
    assert pusher.refreshed == 0
    parts.store.enqueue("7", {"title": "t"})
    (job,) = parts.store.dequeue(1)
    parts.store.release(job, not_before=parts.clock.now() + 600, attempts=0)
    handler.release_processed(["7"])
    assert pusher.refreshed == 1
    assert (parts.store.next_ready_at() or 0) <= parts.clock.now()  # was 600 s away


def test_dead_letter_commands_and_the_purge(parts: Parts) -> None:
    handler, _, _ = handler_for(parts)
    for scene_id in ("1", "2"):
        parts.store.enqueue(scene_id, {"title": scene_id})
        (job,) = parts.store.dequeue(1)
        parts.store.dead_letter(job, error_class="permanent", message="no", attempts=1)
    first, second = parts.store.dlq_list()
    handler.dlq_retry([first.id])
    assert parts.store.dlq_count() == 1 and parts.store.counts().pending == 1
    handler.dlq_delete(None)
    assert parts.store.dlq_count() == 0
    handler.dlq_confirm(second.id)  # gone, and never a possible match: nothing queued
    assert parts.store.counts().pending == 1
    handler.purge(30)  # nothing old enough: nothing removed
    assert parts.store.counts().pending == 1
