"""Today's engine on a data folder written by the version before engine/ moved into packages.

`data/before-layout/` is that version's own output (its README says how it was made): its
config file, database and log must be read as they are, nothing re-sent, nothing lost.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sync_helpers import API_KEY, TOKEN

from engine.config.file import load_config_report
from plexsync_sim.process import SimProcess

pytestmark = pytest.mark.integration

OLD = Path(__file__).parent / "data" / "before-layout"


def plexsync(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "--config-dir", str(config_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def status(config_dir: Path) -> dict[str, Any]:
    result = plexsync(config_dir, "status", "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def old_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    shutil.copytree(OLD, folder, ignore=shutil.ignore_patterns("README.md", "status-then.json"))
    return folder


@pytest.fixture
def sims() -> Iterator[tuple[SimProcess, SimProcess]]:
    # The same simulators the folder was made against (its README).
    plex = SimProcess("plex", "--token", TOKEN, "--movies", "12", "--seed", "5")
    stash = SimProcess("stash", "--api-key", API_KEY, "--scenes", "12", "--seed", "5")
    with plex, stash:
        yield plex, stash


def test_the_old_config_file_loads_unchanged(old_folder: Path) -> None:
    raw = json.loads((old_folder / "config.json").read_text(encoding="utf-8"))
    report = load_config_report(old_folder / "config.json")
    config = report.config
    assert config.plex_url == raw["plex_url"] and config.stash_url == raw["stash_url"]
    assert config.plex_token.get_secret_value() == TOKEN
    assert config.stash_api_key.get_secret_value() == API_KEY
    assert [(m.stash_prefix, m.plex_prefix) for m in config.path_mappings] == [("/data", "/media")]
    assert config.sync_poster is False and config.poll_interval == 1.0
    # Reading it wrote nothing: the file is byte for byte the old one.
    assert (old_folder / "config.json").read_bytes() == (OLD / "config.json").read_bytes()


def test_the_old_database_says_what_it_said_then(old_folder: Path) -> None:
    then = json.loads((OLD / "status-then.json").read_text(encoding="utf-8"))
    now = status(old_folder)
    for key in ("breaker", "queue", "dlq", "last_sync_at", "configured", "paused", "auth_error"):
        assert now[key] == then[key], key
    listed = json.loads(plexsync(old_folder, "dlq", "list", "--json").stdout)
    assert sorted(e["scene_id"] for e in listed) == ["1", "2"]
    assert {e["error_class"] for e in listed} == {"permanent"}


def test_the_new_engine_goes_on_where_the_old_one_stopped(
    old_folder: Path, sims: tuple[SimProcess, SimProcess]
) -> None:
    plex, stash = sims
    old_log = (old_folder / "logs" / "plexsync.log").read_text(encoding="utf-8")
    settings = (
        ("plex_url", plex.url),
        ("stash_url", stash.url),
        # Issue 24's fields, which the old version never wrote, are off here: with them on, a
        # re-read scene gains its code, director and rating in Plex (tests/integration/
        # test_more_fields_sync.py); what is checked here is that nothing old is sent again.
        ("code_field", "off"),
        ("sync_director", "off"),
        ("sync_rating", "off"),
    )
    for key, value in settings:
        result = plexsync(old_folder, "config", "set", key, value)
        assert result.returncode == 0, result.stderr

    run = plexsync(old_folder, "run", "--once")
    assert run.returncode == 0, run.stderr
    # The ten scenes the old version wrote are not sent again; its DLQ is still there.
    assert plex.control("GET", "stats")["by_method"].get("PUT", 0) == 0
    assert status(old_folder)["dlq"]["count"] == 2

    assert plexsync(old_folder, "dlq", "retry", "--all").returncode == 0
    assert plexsync(old_folder, "run", "--once").returncode == 0
    assert plex.control("GET", "stats")["by_method"].get("PUT", 0) == 2  # the two old payloads
    assert status(old_folder)["dlq"]["count"] == 0

    log = (old_folder / "logs" / "plexsync.log").read_text(encoding="utf-8")
    assert log.startswith(old_log)  # appended to, never replaced
    assert "synced 2" in log[len(old_log) :]
