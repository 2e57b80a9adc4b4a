"""`plexsync` as a user runs it: separate processes, simulators as processes, real files."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sync_helpers import API_KEY, TOKEN

from engine.config.file import PlexSyncConfig, save_config
from plexsync_sim.process import SimProcess
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

SEED = 5


def plexsync(
    config_dir: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "--config-dir", str(config_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def sims(request: pytest.FixtureRequest) -> Iterator[tuple[SimProcess, SimProcess, int]]:
    n = getattr(request, "param", 30)
    plex = SimProcess("plex", "--token", TOKEN, "--movies", str(n), "--seed", str(SEED))
    stash = SimProcess("stash", "--api-key", API_KEY, "--scenes", str(n), "--seed", str(SEED))
    with plex, stash:
        yield plex, stash, n


def write_config(config_dir: Path, plex: SimProcess, stash: SimProcess, **kw: Any) -> None:
    settings: dict[str, Any] = {
        "plex_url": plex.url,
        "plex_token": TOKEN,
        "stash_url": stash.url,
        "stash_api_key": API_KEY,
        "poll_interval": 1,
        "recovery_timeout": 3,
        "path_mappings": [{"stash_prefix": "/data", "plex_prefix": "/media"}],
    }
    settings.update(kw)
    save_config(PlexSyncConfig(**settings), config_dir / "config.json")


def status(config_dir: Path) -> dict[str, Any]:
    result = plexsync(config_dir, "status", "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_version_and_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("plexsync ")
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "--help"], capture_output=True, text=True
    )
    for word in ("run", "status", "dlq", "breaker", "config", "sim"):
        assert word in result.stdout


def test_config_commands_mask_secrets(tmp_path: Path) -> None:
    save_config(PlexSyncConfig(plex_url="http://p:1", plex_token=TOKEN), tmp_path / "config.json")
    assert plexsync(tmp_path, "config", "path").stdout.strip() == str(tmp_path / "config.json")
    shown = plexsync(tmp_path, "config", "show")
    assert shown.returncode == 0 and TOKEN not in shown.stdout + shown.stderr
    assert json.loads(shown.stdout)["plex_token"] == "********"
    assert plexsync(tmp_path, "config", "check").returncode == 0
    (tmp_path / "config.json").write_text('{"poll_interval": 0}')
    check = plexsync(tmp_path, "config", "check")
    assert check.returncode == 1 and "poll_interval" in check.stderr
    assert (tmp_path / "config.json").exists()  # check never moves the file


def test_run_once_syncs_and_status_reports(tmp_path: Path, sims: tuple[Any, ...]) -> None:
    plex, stash, _n = sims
    write_config(tmp_path, plex, stash)
    result = plexsync(tmp_path, "run", "--once")
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr and API_KEY not in result.stderr
    data = status(tmp_path)
    assert data["breaker"]["state"] == "closed"
    assert data["queue"] == {"pending": 0, "in_progress": 0, "waiting": 0}
    assert data["dlq"]["count"] == 0 and data["last_sync_at"] is not None
    assert data["engine_running"] is False
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o600


def test_run_once_reports_failure_while_plex_is_down(tmp_path: Path, sims: tuple[Any, ...]) -> None:
    plex, stash, _n = sims
    write_config(tmp_path, plex, stash, failure_threshold=1)
    plex.stop()
    result = plexsync(tmp_path, "run", "--once")
    assert result.returncode == 1
    assert "circuit breaker open" in result.stderr
    data = status(tmp_path)
    assert data["breaker"]["state"] == "open" and data["breaker"]["retry_at"]
    assert data["dlq"]["count"] == 0 and data["queue"]["pending"] > 0
    reset = plexsync(tmp_path, "breaker", "reset")
    assert reset.returncode == 0
    assert status(tmp_path)["breaker"]["state"] == "closed"


def test_dlq_commands(tmp_path: Path, sims: tuple[Any, ...]) -> None:
    plex, stash, _n = sims
    write_config(tmp_path, plex, stash, sync_poster=False)
    plex.control("POST", "fault", {"match": "^PUT ", "status": 400, "count": 2})
    assert plexsync(tmp_path, "run", "--once").returncode == 0
    listed = json.loads(plexsync(tmp_path, "dlq", "list", "--json").stdout)
    assert len(listed) == 2 and {e["error_class"] for e in listed} == {"permanent"}
    shown = json.loads(plexsync(tmp_path, "dlq", "show", str(listed[0]["id"])).stdout)
    assert shown["payload"]["id"] == listed[0]["scene_id"]
    assert plexsync(tmp_path, "dlq", "retry", str(listed[0]["id"])).returncode == 0
    assert plexsync(tmp_path, "dlq", "delete", "--all").stdout.startswith("1 ")
    assert plexsync(tmp_path, "run", "--once").returncode == 0
    assert status(tmp_path)["dlq"]["count"] == 0
    assert plexsync(tmp_path, "dlq", "purge", "--older-than", "1").returncode == 0


@pytest.mark.parametrize("sims", [4], indirect=True)
def test_dlq_confirm_writes_a_possible_match_once_the_user_says_so(
    tmp_path: Path, sims: tuple[Any, ...]
) -> None:
    plex, stash, _n = sims
    write_config(tmp_path, plex, stash, sync_poster=False, path_mappings=[])  # /data vs /media
    run = plexsync(tmp_path, "run", "--once")
    assert run.returncode == 0
    listed = json.loads(plexsync(tmp_path, "dlq", "list", "--json").stdout)
    assert listed and {e["error_class"] for e in listed} == {"possible_match"}
    entry = listed[0]
    assert "/media/" in entry["message"] and "Plex item" in entry["message"]
    unknown = plexsync(tmp_path, "dlq", "confirm", str(entry["id"]), "--item", "999999")
    assert unknown.returncode == 1 and "no possible match" in unknown.stderr
    confirmed = plexsync(tmp_path, "dlq", "confirm", str(entry["id"]))
    assert confirmed.returncode == 0 and confirmed.stdout.startswith("Match confirmed")
    assert plexsync(tmp_path, "run", "--once").returncode == 0
    left = json.loads(plexsync(tmp_path, "dlq", "list", "--json").stdout)
    assert entry["scene_id"] not in {e["scene_id"] for e in left}


def test_commands_act_through_a_running_engine(tmp_path: Path, sims: tuple[Any, ...]) -> None:
    plex, stash, _n = sims
    write_config(tmp_path, plex, stash, failure_threshold=1, recovery_timeout=3600)
    plex.stop()
    runner = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "--config-dir", str(tmp_path), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            data = status(tmp_path)
            if data["engine_running"] and data["breaker"]["state"] == "open":
                break
            time.sleep(0.2)
        assert data["engine_running"] and data["breaker"]["state"] == "open"
        second = plexsync(tmp_path, "run", "--once")
        assert second.returncode == 1 and "already running" in second.stdout
        plex.start()  # Plex is back, but the breaker would wait an hour on its own
        assert plexsync(tmp_path, "breaker", "reset").returncode == 0
        # The running engine's own breaker closed (not just the file), so it drains at once.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            data = status(tmp_path)
            if data["breaker"]["state"] == "closed" and data["queue"]["pending"] == 0:
                break
            time.sleep(0.2)
        assert data["breaker"]["state"] == "closed" and data["queue"]["pending"] == 0
        assert runner.poll() is None
    finally:
        runner.send_signal(signal.SIGTERM)
        started = time.monotonic()
        runner.wait(10)
        stopped_in = time.monotonic() - started
        assert runner.stderr is not None
        runner.stderr.close()
    assert runner.returncode == 0
    assert stopped_in < 2.0
    assert status(tmp_path)["engine_running"] is False


@pytest.mark.parametrize("sims", [3000], indirect=True)
def test_kill_9_mid_sync_loses_nothing(tmp_path: Path, sims: tuple[Any, ...]) -> None:
    plex, stash, n = sims
    write_config(tmp_path, plex, stash, sync_poster=False)
    runner = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "--config-dir", str(tmp_path), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        puts = 0
        while time.monotonic() < deadline and puts < 300:
            puts = plex.control("GET", "stats")["by_method"].get("PUT", 0)
            time.sleep(0.02)
        assert puts >= 300
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(10)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    mid = status(tmp_path)
    assert mid["queue"]["pending"] + mid["queue"]["in_progress"] > 0  # it died mid-sync
    result = plexsync(tmp_path, "run", "--once", timeout=300)
    assert result.returncode == 0, result.stderr
    expected = StashSimulator(api_key=API_KEY, scenes=n, seed=SEED)
    items = {item["files"][0]: item for item in plex.control("GET", "items")}
    synced = 0
    for k in range(1, n + 1):
        scene = expected.scene(k)
        assert scene is not None
        if not scene["files"]:
            continue
        item = items[scene["files"][0].replace("/data", "/media", 1)]
        assert item["title"] == scene["title"]
        assert item["genres"] == list(scene["tags"])  # complete lists: no loss, no duplicates
        assert item["actors"] == list(scene["performers"])
        synced += 1
    assert synced > n * 0.9
    assert status(tmp_path)["dlq"]["count"] == 0


def test_run_once_fails_when_stash_cannot_be_read(tmp_path: Path, sims: tuple[Any, ...]) -> None:
    plex, stash, _n = sims
    write_config(tmp_path, plex, stash)
    stash.stop()
    result = plexsync(tmp_path, "run", "--once")
    assert result.returncode == 1
    assert "Stash is unreachable" in result.stderr
