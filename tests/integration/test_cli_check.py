"""`plexsync check` as a user runs it: processes, simulators as processes, real files."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sync_helpers import API_KEY, TOKEN
from test_cli import plexsync, write_config

from plexsync_sim.process import SimProcess

pytestmark = pytest.mark.integration

SEED = 5


@pytest.fixture
def sims(request: pytest.FixtureRequest) -> Iterator[tuple[SimProcess, SimProcess, int]]:
    n = getattr(request, "param", 30)
    plex = SimProcess("plex", "--token", TOKEN, "--movies", str(n), "--seed", str(SEED))
    stash = SimProcess("stash", "--api-key", API_KEY, "--scenes", str(n), "--seed", str(SEED))
    with plex, stash:
        yield plex, stash, n


def check_json(config_dir: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = plexsync(config_dir, "check", "--json", *args, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def run_state(config_dir: Path) -> dict[str, Any] | None:
    path = config_dir / "data" / "plexsync.sqlite3"
    if not path.exists():
        return None
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT value FROM check_meta WHERE key='run'").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    return None if row is None else dict(json.loads(row[0]))


def test_check_reports_and_fix_queues_what_the_next_run_syncs(
    tmp_path: Path, sims: tuple[Any, ...]
) -> None:
    plex, stash, _n = sims
    write_config(tmp_path, plex, stash, sync_poster=False)
    assert plexsync(tmp_path, "run", "--once").returncode == 0
    code, clean = check_json(tmp_path)
    assert code == 0 and clean["findings"] == [] and clean["scenes"] > 20
    plex_puts = plex.control("GET", "stats")["by_method"].get("PUT", 0)

    rating_key = 1003
    requests.put(
        f"{plex.url}/library/sections/1/all",
        params={"type": "1", "id": str(rating_key), "title.value": "Edited in Plex"},
        headers={"X-Plex-Token": TOKEN},
        timeout=5,
    ).raise_for_status()
    code, found = check_json(tmp_path)
    assert code == 1
    assert [(f["kind"], f["fields"]) for f in found["findings"]] == [("drifted", ["title"])]
    assert found["counts"]["drifted"] == 1
    assert plex.control("GET", "stats")["by_method"].get("PUT", 0) == plex_puts + 1  # ours only

    text = plexsync(tmp_path, "check")
    assert text.returncode == 1 and "drifted" in text.stdout and "title" in text.stdout
    assert TOKEN not in text.stdout + text.stderr

    code, fixed = check_json(tmp_path, "--fix")
    assert code == 0 and fixed["fixed"] == 1
    assert plexsync(tmp_path, "run", "--once").returncode == 0
    assert plex.control("GET", f"items/{rating_key}")["title"] != "Edited in Plex"
    code, again = check_json(tmp_path)
    assert code == 0 and again["findings"] == []


def test_check_without_plex_settings_is_a_usage_error(tmp_path: Path) -> None:
    result = plexsync(tmp_path, "check")
    assert result.returncode == 2 and "not configured" in result.stdout


def test_check_fails_clearly_when_plex_is_down(tmp_path: Path, sims: tuple[Any, ...]) -> None:
    plex, stash, _n = sims
    write_config(tmp_path, plex, stash)
    plex.stop()
    result = plexsync(tmp_path, "check")
    assert result.returncode == 1
    assert "Plex is unreachable" in result.stderr and "resume" in result.stderr


@pytest.mark.parametrize("sims", [12000], indirect=True)
def test_check_killed_mid_run_resumes_and_matches_a_fresh_check(
    tmp_path: Path, sims: tuple[Any, ...]
) -> None:
    plex, stash, _n = sims
    write_config(tmp_path, plex, stash, sync_poster=False)
    runner = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "--config-dir", str(tmp_path), "check"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        state = None
        while time.monotonic() < deadline:
            state = run_state(tmp_path)
            if state and state["phase"] == "stash" and state.get("scenes", 0) >= 1000:
                break
            time.sleep(0.02)
        assert state is not None and state["phase"] == "stash"
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(10)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    killed = run_state(tmp_path)
    assert killed is not None and killed["id"] == 1  # the run was left in flight

    _code, resumed = check_json(tmp_path)
    assert resumed["run_id"] == 1  # the same run, finished
    assert run_state(tmp_path) is None
    _code, fresh = check_json(tmp_path)
    assert fresh["run_id"] == 2
    assert resumed["counts"] == fresh["counts"] and resumed["scenes"] == fresh["scenes"]
    assert resumed["counts"]["never_synced"] > 10_000  # nothing synced yet: all reported once
