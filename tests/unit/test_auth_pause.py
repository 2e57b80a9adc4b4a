"""A pause for rejected credentials ends by itself when they work again, or on `resume`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fake_clock import FakeClock
from test_sync_engine import make_engine, run_ticks

from engine.cli.main import main
from engine.errors import AuthError
from engine.store.jobs import JobStore


def test_a_plex_auth_pause_ends_by_itself_when_the_token_works_again(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, _stash, store, _rec = make_engine(tmp_path, fake_clock)
    plex.fail_with = AuthError("Plex rejected the token", "401", service="plex")
    run_ticks(engine, fake_clock, 60)
    status = engine.status()
    assert status.auth_error == "Plex rejected the token" and status.auth_service == "plex"
    assert store.counts().pending == 3 and store.dlq_count() == 0
    # Cheap: one probe per poll interval (10 s), nothing else sent while paused.
    assert 4 <= plex.calls.count("probe") <= 7
    assert set(plex.calls) == {"probe", "sections"}
    plex.fail_with = None  # e.g. the reverse proxy finished restarting
    run_ticks(engine, fake_clock, 15)
    status = engine.status()
    assert status.auth_error is None and status.auth_service is None
    assert store.counts().pending == 0 and len(plex.edits) == 3


def test_a_stash_auth_pause_ends_with_the_next_poll_that_works(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    engine, plex, stash, store, _rec = make_engine(tmp_path, fake_clock)
    stash.fail_with = AuthError("Stash rejected the API key", "401", service="stash")
    run_ticks(engine, fake_clock, 30)
    status = engine.status()
    assert status.auth_error == "Stash rejected the API key" and status.auth_service == "stash"
    assert plex.edits == []
    stash.fail_with = None
    run_ticks(engine, fake_clock, 15)
    assert engine.status().auth_error is None
    assert store.counts().pending == 0 and len(plex.edits) == 3


def test_resume_ends_an_auth_pause_at_once(tmp_path: Path, fake_clock: FakeClock) -> None:
    engine, plex, _stash, store, _rec = make_engine(tmp_path, fake_clock)
    plex.fail_with = AuthError("Plex rejected the token", "401", service="plex")
    run_ticks(engine, fake_clock, 5)
    assert engine.status().auth_error is not None
    plex.fail_with = None
    engine.resume()
    engine.tick()  # no waiting for the next check
    assert engine.status().auth_error is None and len(plex.edits) == 3
    assert store.counts().pending == 0


def test_cli_resume_ends_a_timed_pause_without_an_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = JobStore(tmp_path / "data" / "plexsync.sqlite3")
    store.set_value("paused_until", time.time() + 3600)
    store.close()
    assert main(["--config-dir", str(tmp_path), "resume"]) == 0
    assert "Syncing resumed." in capsys.readouterr().out
    store = JobStore(tmp_path / "data" / "plexsync.sqlite3", recover=False)
    assert store.get_value("paused_until") is None
    store.close()


def test_a_check_that_passes_while_writes_are_refused_notifies_once(
    tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, plex, _stash, store, rec = make_engine(tmp_path, fake_clock)

    def refused(item: object, params: object) -> None:
        raise AuthError("Plex rejected the token", "403 on the library", service="plex")

    monkeypatch.setattr(plex, "edit", refused)  # the probe works, the library does not
    run_ticks(engine, fake_clock, 120)
    assert rec.auth == ["Plex rejected the token"]
    assert engine.status().auth_error == "Plex rejected the token"
    assert store.dlq_count() == 0 and store.counts().pending == 3
