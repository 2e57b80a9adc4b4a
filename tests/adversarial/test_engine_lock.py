"""One engine per data dir, whichever command starts it; readers still work beside it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config.file import PlexSyncConfig, save_config
from engine.paths import AppPaths
from engine.runtime.compose import EngineRuntime
from engine.runtime.lock import EngineBusyError, EngineLock

CONFIG = PlexSyncConfig(plex_url="http://127.0.0.1:9", plex_token="token-not-used")


def plexsync(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "--config-dir", str(config_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_engine_is_refused_and_leaves_the_first_ones_jobs_alone(
    tmp_path: Path,
) -> None:
    paths = AppPaths.in_dir(tmp_path)
    first = EngineRuntime.open(paths, CONFIG, serve_control=False)
    try:
        first.store.enqueue("1", {"title": "a"}, title="a")
        assert [job.scene_id for job in first.store.dequeue(1)] == ["1"]  # in the first's hands
        with pytest.raises(EngineBusyError, match="Another PlexSync engine is running"):
            EngineRuntime.open(paths, CONFIG, serve_control=False)
        assert first.store.counts().in_progress == 1  # not re-queued behind its back
    finally:
        first.close()
    second = EngineRuntime.open(paths, CONFIG, serve_control=False)  # free again after close
    second.close()


def test_the_lock_dies_with_a_killed_process(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from engine.runtime.lock import EngineLock;"
            "EngineLock(Path(sys.argv[1])).acquire(); print('held', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(EngineBusyError):
            EngineLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()
    with EngineLock(tmp_path) as lock:
        assert lock.held


def test_cli_run_is_refused_while_an_engine_works_but_readers_still_answer(
    tmp_path: Path,
) -> None:
    save_config(CONFIG, tmp_path / "config.json")
    paths = AppPaths.in_dir(tmp_path)
    first = EngineRuntime.open(paths, CONFIG, serve_control=False)  # like `run --once`
    try:
        first.store.enqueue("1", {"title": "a"}, title="a")
        first.store.dequeue(1)
        for args in (("run",), ("run", "--once")):
            result = plexsync(tmp_path, *args)
            assert result.returncode == 1
            assert "Another PlexSync engine is running" in result.stderr
            assert "Traceback" not in result.stderr
        status = plexsync(tmp_path, "status", "--json")
        assert status.returncode == 0 and json.loads(status.stdout)["queue"]["in_progress"] == 1
        assert plexsync(tmp_path, "dlq", "list").returncode == 0
        # A changing command cannot reach a silent engine, so it must not act behind its back.
        reset = plexsync(tmp_path, "breaker", "reset")
        assert reset.returncode == 1 and "did not answer" in reset.stderr
        assert first.store.counts().in_progress == 1
    finally:
        first.close()
