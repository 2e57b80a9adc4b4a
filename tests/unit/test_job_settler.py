"""JobSettler on its own: each way a job can end, with a fake clock and a real store."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_parts import Parts, make_parts

from engine.breaker import CircuitState
from engine.check.runner import CheckRunner
from engine.errors import (
    AuthError,
    PermanentError,
    PossibleMatchError,
    SyncError,
    TransientError,
    UnreachableError,
)
from engine.push.pusher import PosterPending, PushResult
from engine.store.activity import ActivityKind
from engine.store.job import Job
from engine.store.jobs import Pushed
from engine.sync.settling import JobSettler


def settler_for(parts: Parts) -> JobSettler:
    return JobSettler(
        store=parts.store,
        clock=parts.clock,
        rng=random.Random(3),
        listener=parts.heard,
        breaker=parts.breaker,
        wake=parts.wake,
        stop=parts.stop,
        services=parts.services,
        clients=parts.clients,
        checker=CheckRunner(parts.store, parts.clock, parts.heard, scheduled=False),
        progress=parts.progress,
        config=lambda: parts.config,
    )


def claimed(parts: Parts, scene_id: str = "7") -> Job:
    parts.store.enqueue(scene_id, {"title": f"scene {scene_id}"}, title=f"scene {scene_id}")
    (job,) = parts.store.dequeue(1)
    return job


def record(scene_id: str = "7") -> Pushed:
    return Pushed(scene_id, "hash", {"rating_key": "1000", "title": "t"}, None, None)


def failing(exc: Exception) -> PushResult:
    raise exc


@pytest.fixture
def parts(tmp_path: Path, fake_clock: FakeClock) -> Parts:
    return make_parts(tmp_path, fake_clock)


def test_a_job_that_reached_plex_is_recorded_counted_and_told(parts: Parts) -> None:
    settler = settler_for(parts)
    parts.progress.started(2)
    settler.settle(claimed(parts), lambda: PushResult(record(), notes=["no studio"], wrote=True))
    settler.committed(kept=True)
    assert parts.store.pushed("7") is not None and parts.store.get_job("7") is None
    (activity,) = parts.store.activity_page()
    assert activity.kind is ActivityKind.SYNCED and activity.rating_key == "1000"
    assert (settler.counts.synced, settler.counts.unchanged) == (1, 0)
    assert parts.progress.current is not None and parts.progress.current.done == 1
    (outcome,) = parts.heard.finished
    assert outcome.ok and outcome.message == "no studio"


def test_writes_for_the_check_wait_for_the_commit_and_vanish_with_a_rollback(
    parts: Parts,
) -> None:
    settler = settler_for(parts)
    seen: list[bool] = []
    settler._checker.pushed = lambda *a, **k: seen.append(True)  # type: ignore[method-assign]
    settler.settle(claimed(parts, "1"), lambda: PushResult(record("1"), wrote=True))
    assert seen == []
    settler.committed(kept=False)
    settler.committed(kept=True)
    assert seen == []  # rolled back: forgotten, not replayed later
    settler.settle(claimed(parts, "2"), lambda: PushResult(record("2"), wrote=True))
    settler.committed(kept=True)
    assert seen == [True]


def test_a_transient_failure_is_retried_later_with_one_more_attempt(parts: Parts) -> None:
    settler = settler_for(parts)
    settler.settle(claimed(parts), lambda: failing(TransientError("Plex answered 500")))
    job = parts.store.get_job("7")
    assert job is not None and job.attempts == 1 and job.not_before > parts.clock.now()
    (outcome,) = parts.heard.finished
    assert not outcome.ok and outcome.retry_at == job.not_before
    assert parts.breaker.snapshot().failure_count == 1


def test_an_unreachable_plex_holds_the_job_without_using_an_attempt(parts: Parts) -> None:
    settler = settler_for(parts)
    settler.settle(claimed(parts), lambda: failing(UnreachableError("Plex is unreachable")))
    job = parts.store.get_job("7")
    assert job is not None and job.attempts == 0
    assert parts.store.counts().pending == 1 and parts.heard.finished == []
    assert parts.services.plex_held


def test_a_stash_outage_waits_a_poll_interval_and_never_uses_attempts(parts: Parts) -> None:
    settler = settler_for(parts)
    down = UnreachableError("Stash is unreachable")
    down.service = "stash"
    settler.settle(claimed(parts), lambda: failing(down))
    job = parts.store.get_job("7")
    assert job is not None and job.attempts == 0
    assert job.not_before == parts.clock.now() + parts.config.poll_interval
    assert parts.breaker.snapshot().failure_count == 0


def test_a_permanent_failure_is_dead_lettered_and_announced_once_per_tick(parts: Parts) -> None:
    settler = settler_for(parts)
    settler.settle(claimed(parts, "1"), lambda: failing(PermanentError("Plex refused", "400")))
    settler.settle(claimed(parts, "2"), lambda: failing(PermanentError("Plex refused", "400")))
    assert parts.store.dlq_count() == 2 and settler.counts.failed == 2
    settler.flush_dead_letters()
    settler.flush_dead_letters()
    assert [len(batch) for batch in parts.heard.dead] == [2]


def test_dead_letters_of_a_rolled_back_tick_are_never_announced(parts: Parts) -> None:
    settler = settler_for(parts)
    settler.settle(claimed(parts), lambda: failing(PermanentError("Plex refused")))
    settler.forget_dead_letters()
    settler.flush_dead_letters()
    assert parts.heard.dead == []


def test_a_possible_match_keeps_its_candidate_for_the_user_to_confirm(parts: Parts) -> None:
    settler = settler_for(parts)
    candidate = ("/data/clip.mp4", "/other/clip.mp4", "1000")
    possible = PossibleMatchError("Possible match", candidates=[candidate])
    settler.settle(claimed(parts), lambda: failing(possible))
    assert [c.rating_key for c in parts.store.possible_for("7")] == ["1000"]
    assert parts.store.dlq_count() == 1


def test_a_poster_that_failed_keeps_the_metadata_written(parts: Parts) -> None:
    settler = settler_for(parts)
    cause = TransientError("Poster upload failed")
    settler.settle(claimed(parts), lambda: failing(PosterPending(record(), cause, wrote=True)))
    assert parts.store.pushed("7") is not None  # never written twice
    job = parts.store.get_job("7")
    assert job is not None and job.attempts == 1 and "Poster pending" in (job.last_error or "")


def test_an_unexpected_error_is_a_transient_failure_not_a_crash(parts: Parts) -> None:
    settler = settler_for(parts)
    settler.settle(claimed(parts), lambda: failing(KeyError("rating_key")))
    job = parts.store.get_job("7")
    assert job is not None and job.attempts == 1 and "KeyError" in (job.last_error or "")


@pytest.mark.parametrize(
    ("situation", "expected"),
    [("open", 4), ("half-open", 1), ("stopping", 0), ("signed out", 0), ("held", 0)],
)
def test_how_many_requests_may_be_in_flight(parts: Parts, situation: str, expected: int) -> None:
    settler = settler_for(parts)
    if situation == "half-open":
        parts.breaker.trip()
        parts.breaker.half_open_now()
    elif situation == "stopping":
        parts.stop.set()
    elif situation == "signed out":
        parts.services.on_failure(AuthError("Plex rejected the token", service="plex"))
    elif situation == "held":
        parts.services.on_failure(UnreachableError("Plex is unreachable"))
        parts.breaker.reset()
    assert parts.breaker.state is not CircuitState.OPEN
    assert settler.may_send() == expected


def test_a_failed_read_ahead_pauses_only_for_credentials(parts: Parts) -> None:
    settler = settler_for(parts)
    settler.prefetch_failed(TransientError("Plex answered 500"))
    assert parts.services.auth_error is None and parts.breaker.snapshot().failure_count == 0
    refused: SyncError = AuthError("Plex rejected the token", service="plex")
    settler.prefetch_failed(refused)
    assert parts.services.auth_error == "Plex rejected the token"
