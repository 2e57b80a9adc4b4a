"""`plexsync` and the config file as a user meets them: a bad value refuses `run` and changes
nothing; secrets (URL credentials included) never reach the output or the log file."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_helpers import API_KEY, TOKEN
from test_cli import plexsync, write_config

from plexsync_sim.process import SimProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def sims() -> Iterator[tuple[SimProcess, SimProcess]]:
    plex = SimProcess("plex", "--token", TOKEN, "--movies", "5", "--seed", "3")
    stash = SimProcess("stash", "--api-key", API_KEY, "--scenes", "5", "--seed", "3")
    with plex, stash:
        yield plex, stash


def test_run_refuses_a_bad_field_names_it_and_leaves_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    text = json.dumps({"plex_url": "http://127.0.0.1:9", "plex_token": TOKEN, "poll_interval": 0})
    config.write_text(text)
    config.chmod(0o600)
    result = plexsync(tmp_path, "run", "--once", timeout=60)
    assert result.returncode == 2
    assert "poll_interval" in result.stderr and "did not start" in result.stderr
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr
    assert config.read_text() == text and not list(tmp_path.glob("*.bak"))
    again = plexsync(tmp_path, "run", "--once", timeout=60)  # still told, next time too
    assert again.returncode == 2 and "poll_interval" in again.stderr
    check = plexsync(tmp_path, "config", "check")
    assert check.returncode == 1 and "poll_interval" in check.stderr


def test_config_show_masks_url_credentials_and_warns_about_unknown_keys(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    settings = {
        "plex_url": "http://alice:pl3x-pass@127.0.0.1:32400",
        "plex_token": TOKEN,
        "stash_url": "http://bob:st4sh-pass@127.0.0.1:9999",
        "poll_intervall": 5,
    }
    config.write_text(json.dumps(settings))
    config.chmod(0o600)
    shown = plexsync(tmp_path, "config", "show")
    assert shown.returncode == 0
    output = shown.stdout + shown.stderr
    for secret in ("pl3x-pass", "st4sh-pass", "alice", TOKEN):
        assert secret not in output
    assert "poll_intervall" in shown.stderr and "ignored" in shown.stderr
    check = plexsync(tmp_path, "config", "check")
    assert check.returncode == 0 and "poll_intervall" in check.stderr
    assert json.loads(config.read_text()) == settings  # kept, key and all


def test_a_world_readable_config_is_warned_about_and_fixed(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"plex_url": "http://127.0.0.1:9", "plex_token": TOKEN}))
    config.chmod(0o644)
    check = plexsync(tmp_path, "config", "check")
    assert "other users can read it" in check.stderr and "fix-permissions" in check.stderr
    fixed = plexsync(tmp_path, "config", "fix-permissions")
    assert fixed.returncode == 0
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert "other users" not in plexsync(tmp_path, "config", "check").stderr


def test_run_writes_a_masked_log_file(tmp_path: Path, sims: tuple[SimProcess, SimProcess]) -> None:
    plex, stash = sims
    write_config(tmp_path, plex, stash)
    result = plexsync(tmp_path, "-v", "run", "--once")
    assert result.returncode == 0, result.stderr
    log = tmp_path / "logs" / "plexsync.log"
    text = log.read_text()
    assert "starting; log file" in text and "DEBUG" in text
    assert TOKEN not in text and API_KEY not in text
    assert TOKEN not in result.stderr and API_KEY not in result.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_run_with_a_damaged_database_needs_consent(
    tmp_path: Path, sims: tuple[SimProcess, SimProcess]
) -> None:
    plex, stash = sims
    write_config(tmp_path, plex, stash)
    database = tmp_path / "data" / "plexsync.sqlite3"
    database.parent.mkdir(parents=True)
    garbage = b"\x00garbage, not SQLite\xff" * 200
    database.write_bytes(garbage)
    refused = plexsync(tmp_path, "run", "--once")
    assert refused.returncode == 1
    assert "damaged" in refused.stderr and "--reset-database" in refused.stderr
    assert "Traceback" not in refused.stderr and database.read_bytes() == garbage
    reset = plexsync(tmp_path, "run", "--once", "--reset-database")
    assert reset.returncode == 0, reset.stderr
    (kept,) = database.parent.glob("plexsync.sqlite3.*.corrupt")
    assert kept.read_bytes() == garbage
    assert plexsync(tmp_path, "status").returncode == 0
