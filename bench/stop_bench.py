"""How long an idle ``plexsync run`` takes to exit after SIGTERM (goal: under 0.5 s).

Run with ``.venv/bin/python bench/stop_bench.py [--runs 10] [--idle 3]``. Both simulators run
as processes; each run starts ``plexsync run``, lets it sync and go idle for ``--idle`` seconds,
sends SIGTERM and times until the process has exited (interpreter shutdown included).
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config.file import PathMapping, PlexSyncConfig, save_config
from plexsync_sim.process import SimProcess

TOKEN = "bench-token-0123456789"
API_KEY = "bench-key-0123456789"


def stop_time(config_dir: str, idle: float) -> float:
    command = [sys.executable, "-m", "engine.cli", "--config-dir", config_dir, "run"]
    runner = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(idle)
        started = time.monotonic()
        runner.send_signal(signal.SIGTERM)
        runner.wait(30)
        return time.monotonic() - started
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--poll-interval", type=float, default=30.0)
    args = parser.parse_args()
    plex = SimProcess("plex", "--token", TOKEN, "--movies", "20", "--seed", "5")
    stash = SimProcess("stash", "--api-key", API_KEY, "--scenes", "20", "--seed", "5")
    with plex, stash, tempfile.TemporaryDirectory() as config_dir:
        config = PlexSyncConfig(
            plex_url=plex.url,
            plex_token=TOKEN,
            stash_url=stash.url,
            stash_api_key=API_KEY,
            poll_interval=args.poll_interval,
            path_mappings=[PathMapping(stash_prefix="/data", plex_prefix="/media")],
        )
        save_config(config, Path(config_dir) / "config.json")
        times = [stop_time(config_dir, args.idle) for _ in range(args.runs)]
    print(
        f"SIGTERM to exit, idle, {args.runs} runs: median {statistics.median(times):.2f} s,"
        f" max {max(times):.2f} s, min {min(times):.2f} s"
    )


if __name__ == "__main__":
    main()
