"""ServiceState on its own: what a failure, an answer, a pause or a storage error leaves behind."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_parts import make_parts, open_settle_window

from engine.breaker import CircuitState
from engine.errors import AuthError, StashQueryError, TransientError, UnreachableError
from engine.events import ServiceHealth
from engine.retry import MAX_RETRY_AFTER
from engine.sync.failures import STORAGE_RETRY, ServiceState


def stash_down() -> UnreachableError:
    exc = UnreachableError("Stash is unreachable", "connection refused")
    exc.service = "stash"
    return exc


def test_an_unreachable_plex_counts_holds_for_a_poll_interval_and_refreshes_the_index(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    services = parts.services
    services.on_failure(UnreachableError("Plex is unreachable"))
    assert parts.breaker.snapshot().failure_count == 1
    assert services.plex_held and services.last_error == "Plex is unreachable"
    assert parts.unreachable_calls == ["refresh"]
    fake_clock.advance(9.9)
    assert services.plex_held
    fake_clock.advance(0.2)
    assert not services.plex_held


def test_retry_after_holds_plex_as_long_as_asked_but_never_past_the_cap(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    services = make_parts(tmp_path, fake_clock).services
    services.on_failure(TransientError("Too many requests", retry_after=100))
    assert services.plex_hold_until == fake_clock.monotonic() + 100
    services.on_failure(TransientError("Too many requests", retry_after=10**9))
    assert services.plex_hold_until == fake_clock.monotonic() + MAX_RETRY_AFTER


def test_inside_a_settle_window_a_failure_neither_counts_nor_shows(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    open_settle_window(parts)
    parts.services.on_failure(UnreachableError("Plex is unreachable"))
    assert parts.breaker.snapshot().failure_count == 0
    assert parts.services.last_error is None
    assert parts.services.plex_hold_until == parts.wake.settle_until
    assert parts.services.next_probe_at == parts.wake.settle_until


def test_a_stash_outage_mid_job_holds_plex_without_touching_its_breaker(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    parts.services.on_failure(stash_down())
    assert parts.breaker.snapshot().failure_count == 0
    assert parts.services.plex_held and parts.services.last_error == "Stash is unreachable"
    assert parts.unreachable_calls == []


def test_a_sign_in_failure_pauses_is_told_once_and_ends_when_the_probe_passes(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    services = parts.services
    refused = AuthError("Plex rejected the token", service="plex")
    services.on_failure(refused)
    assert (services.auth_error, services.auth_service) == ("Plex rejected the token", "plex")
    assert parts.heard.auth == [("plex", "Plex rejected the token")]

    parts.plex.fail_with = refused
    fake_clock.advance(5)
    services.check_plex_auth()
    assert parts.plex.calls == []  # not before a poll interval
    fake_clock.advance(5)
    services.check_plex_auth()
    assert parts.plex.calls == ["probe"] and services.auth_error is not None

    parts.plex.fail_with = None
    fake_clock.advance(10)
    services.check_plex_auth()
    assert services.auth_error is None and services.auth_service is None
    services.on_failure(refused)  # refused again without a write between: no second notice
    assert len(parts.heard.auth) == 1
    services.clear_auth_error(by_user=True)
    services.on_failure(refused)  # a person asked since: they hear of it again
    assert len(parts.heard.auth) == 2


def test_a_write_that_works_makes_the_next_refusal_news_again(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    refused = AuthError("Plex rejected the token", service="plex")
    parts.services.on_failure(refused)
    parts.services.clear_auth_error()
    parts.services.plex_wrote()
    parts.services.on_failure(refused)
    assert len(parts.heard.auth) == 2


def test_after_a_reset_only_plex_s_answer_says_whether_it_is_back(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    services = parts.services
    services.begin_plex_check(after_reset=True)
    services.plex_answered(ok=False, down=True)
    assert parts.breaker.state is CircuitState.OPEN and not services.plex_checking

    parts.store.outage_started(fake_clock.now())
    services.begin_plex_check(after_reset=True)
    services.plex_answered(ok=True)
    assert parts.store.outages(0)[-1].ended_at == fake_clock.now()

    services.begin_plex_check()  # a retry's check: the breaker's own transition decides
    parts.breaker.reset()
    services.plex_answered(ok=False, down=True)
    assert parts.breaker.state is CircuitState.CLOSED and not services.plex_checking


def test_stash_health_and_its_outages_follow_its_answers(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    services = parts.services
    services.stash_answered(stash_down())
    assert services.stash_health is ServiceHealth.UNREACHABLE
    assert services.stash_error == "Stash is unreachable (connection refused)"
    fake_clock.advance(30)
    services.stash_answered(StashQueryError("Stash refused the query"))  # an answer: Stash is up
    assert (services.stash_health, services.stash_error) == (ServiceHealth.OK, None)
    (outage,) = parts.store.outages(0, "stash")
    assert outage.duration == 30
    services.stash_answered(AuthError("Stash rejected the key", service="stash"))
    assert services.stash_health is ServiceHealth.AUTH_FAILED  # not an outage
    assert len(parts.store.outages(0, "stash")) == 1


def test_a_timed_pause_survives_a_restart_and_ends_on_time(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    parts.services.pause(fake_clock.now() + 60)
    again = make_parts(tmp_path, fake_clock).services  # the next start, same data folder
    again.restore_pause()
    assert again.paused and again.paused_until == fake_clock.now() + 60
    assert not again.pause_ended(fake_clock.now() + 59)
    assert again.pause_ended(fake_clock.now() + 60)
    again.resume()
    later: ServiceState = make_parts(tmp_path, fake_clock).services
    later.restore_pause()
    assert not later.paused


def test_a_pause_until_restart_does_not_survive_one(tmp_path: Path, fake_clock: FakeClock) -> None:
    make_parts(tmp_path, fake_clock).services.pause(None)
    again = make_parts(tmp_path, fake_clock).services
    again.restore_pause()
    assert not again.paused


def test_a_failing_database_is_said_once_and_waited_for(
    tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    parts = make_parts(tmp_path, fake_clock)
    parts.store.enqueue("1", {"title": "one"})
    parts.store.dequeue(1)  # claimed when the tick failed
    caplog.set_level(logging.WARNING, logger="engine.sync.failures")
    for _ in range(3):
        assert parts.services.storage_failed(sqlite3.OperationalError("disk I/O error")) == (
            STORAGE_RETRY
        )
    assert len(caplog.records) == 1 and parts.services.engine_error
    parts.services.storage_recovered()
    assert parts.services.engine_error is None
    assert parts.store.counts().pending == 1  # given back, not lost
