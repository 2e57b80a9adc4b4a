"""The engine's status says how Stash is, whose sign-in failed, and when Plex is being checked."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fake_clock import FakeClock
from test_sync_engine import make_engine, run_ticks

from engine.breaker import CircuitState
from engine.errors import AuthError, StashQueryError, UnreachableError
from engine.events import ServiceHealth


def stash_down() -> UnreachableError:
    error = UnreachableError("Stash is unreachable", "connection refused")
    error.service = "stash"
    return error


def test_stash_health_follows_the_polls(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, _plex, stash, _store, _ = make_engine(tmp_path, fake_clock)
    assert engine.status().stash_health is ServiceHealth.UNKNOWN
    engine.tick()
    assert engine.status().stash_health is ServiceHealth.OK
    stash.fail_with = stash_down()
    run_ticks(engine, fake_clock, 15)
    status = engine.status()
    assert status.stash_health is ServiceHealth.UNREACHABLE
    assert status.stash_error == "Stash is unreachable (connection refused)"
    assert status.breaker_state is CircuitState.CLOSED  # Stash's trouble is not Plex's
    stash.fail_with = None
    run_ticks(engine, fake_clock, 15)
    assert engine.status().stash_health is ServiceHealth.OK
    assert engine.status().stash_error is None


def test_a_rejected_stash_key_is_reported_as_stash(
    tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine, _plex, stash, _store, rec = make_engine(tmp_path, fake_clock)
    stash.fail_with = AuthError("Stash rejected the API key", "HTTP 401", service="stash")
    with caplog.at_level(logging.WARNING):
        engine.tick()
    status = engine.status()
    assert status.auth_service == "stash"
    assert status.auth_error == "Stash rejected the API key"
    assert status.stash_health is ServiceHealth.AUTH_FAILED
    assert rec.auth == ["Stash rejected the API key"]
    assert all("Plex" not in r.getMessage() for r in caplog.records)


def test_reset_while_plex_is_down_checks_and_does_not_claim_recovery(
    tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine, plex, _stash, _store, _ = make_engine(
        tmp_path, fake_clock, failure_threshold=2, recovery_timeout=300
    )
    engine.tick()
    plex.fail_with = UnreachableError("Plex is unreachable", "refused")
    run_ticks(engine, fake_clock, 40)
    assert engine.breaker.state is CircuitState.OPEN
    caplog.clear()
    with caplog.at_level(logging.INFO):
        engine.reset_breaker()
        engine._commands.run_pending()  # the command alone, as the next tick starts with it
        engine._publish()
        checking = engine.status()
        engine.tick()  # asks Plex at once; Plex is still down
    assert checking.plex_checking and checking.breaker_state is CircuitState.CLOSED
    after = engine.status()
    assert not after.plex_checking
    assert after.breaker_state is CircuitState.OPEN  # the try failed: waiting again
    assert not any("Plex is back" in r.getMessage() for r in caplog.records)
    assert plex.calls[-1] == "probe"


def test_reset_when_plex_answers_says_it_is_back(
    tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine, plex, _stash, store, _ = make_engine(
        tmp_path, fake_clock, failure_threshold=2, recovery_timeout=300
    )
    engine.tick()
    plex.fail_with = UnreachableError("Plex is unreachable", "refused")
    run_ticks(engine, fake_clock, 40)
    plex.fail_with = None
    with caplog.at_level(logging.INFO):
        engine.reset_breaker()
        engine.tick()
    status = engine.status()
    assert not status.plex_checking and status.breaker_state is CircuitState.CLOSED
    assert any("Plex is back" in r.getMessage() for r in caplog.records)
    assert all(outage.ended_at is not None for outage in store.outages(0))


def test_a_refused_request_is_an_answer_not_an_outage(
    tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A GraphQL error about the request (Stash's words) fails that poll, is logged once, and
    never turns the icon to "Stash down" nor records an outage (issue 21)."""
    engine, _plex, stash, store, _ = make_engine(tmp_path, fake_clock)
    engine.tick()
    stash.fail_with = StashQueryError("Stash refused the request", "unknown sort: whatever")
    with caplog.at_level(logging.WARNING):
        run_ticks(engine, fake_clock, 40)
    status = engine.status()
    assert status.stash_health is ServiceHealth.OK
    assert store.outages(0, service="stash") == []
    said = [r for r in caplog.records if "unknown sort" in r.getMessage()]
    assert len(said) == 1
    assert status.last_error == "Stash refused the request (unknown sort: whatever)"
