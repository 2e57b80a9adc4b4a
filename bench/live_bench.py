"""Seconds, not a poll interval: how fast live updates carry changes (goal: medians under 2 s).

Run with ``.venv/bin/python bench/live_bench.py [--runs 11] [--poll-interval 30]``. Both
simulators run in-process; the engine runs on its own thread with the real clock, the default
30 s poll interval, and live updates on, as the tray runs it. Two figures:

- identify: a simulated Identify job edits one scene's title; from the job's end (its REMOVE
  update) until the Plex item shows the title.
- scan: a scene whose file Plex lacks waits in not-found backoff; from the end of Plex's scan
  of its folder until the Plex item shows the scene's title.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from engine.config.file import PathMapping, PlexSyncConfig
from engine.plex.client import PlexClient
from engine.runtime.live import LiveUpdates
from engine.stash.client import StashClient
from engine.store.jobs import JobStore
from engine.sync.engine import SyncEngine
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

TOKEN = "bench-token-0123456789"
API_KEY = "bench-key-0123456789"
LIMIT = 60.0


def until(condition: Callable[[], bool], limit: float = LIMIT) -> float:
    """Seconds until `condition` holds (polled every 5 ms); raises after `limit`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit:
            raise SystemExit("the change did not arrive in time")
        time.sleep(0.005)
    return time.monotonic() - started


def plex_title(plex: PlexSimulator, path: str) -> str | None:
    for item in plex.items():
        if path in item["files"]:
            return str(item["title"])
    return None


def identify_run(plex: PlexSimulator, stash: StashSimulator, n: int) -> float:
    scene = stash.scene(1 + n % 10)
    assert scene is not None and scene["files"]
    path = scene["files"][0].replace("/data", "/media", 1)
    title = f"Identified {n}"
    stash.jobs.run("identify", [int(scene["id"])], {"title": title}).join()
    return until(lambda: plex_title(plex, path) == title)


def scan_run(plex: PlexSimulator, stash: StashSimulator, n: int) -> float:
    scene_id = 11 + n % 10
    title = f"Added later {n}"
    folder = f"/later-{n}"
    fields = {"files": [f"/data{folder}/scene-{n}.mp4"], "title": title, "details": "identified"}
    stash.jobs.run("scan", [scene_id], fields).join()
    time.sleep(1.0)  # the engine polls, finds no item, and the job waits in not-found backoff
    plex.add_pending(f"/media{folder}/scene-{n}.mp4")
    requests.get(
        f"{plex.url}/library/sections/1/refresh",
        params={"path": f"/media{folder}", "X-Plex-Token": TOKEN},
        timeout=10,
    )  # the sim scans within the request: its answer is the scan's end
    return until(lambda: plex_title(plex, f"/media{folder}/scene-{n}.mp4") == title)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--poll-interval", type=float, default=30.0)
    args = parser.parse_args()
    with (
        PlexSimulator(token=TOKEN, movies=20, seed=5) as plex,
        StashSimulator(api_key=API_KEY, scenes=20, seed=5) as stash,
        tempfile.TemporaryDirectory() as data,
    ):
        config = PlexSyncConfig(
            plex_url=plex.url,
            plex_token=TOKEN,
            stash_url=stash.url,
            stash_api_key=API_KEY,
            poll_interval=args.poll_interval,
            path_mappings=[PathMapping(stash_prefix="/data", plex_prefix="/media")],
        )
        store = JobStore(Path(data) / "bench.sqlite3")
        engine = SyncEngine(
            config=config, store=store, plex_factory=PlexClient, stash_factory=StashClient
        )
        live = LiveUpdates(engine).start()
        runner = threading.Thread(target=engine.run, daemon=True)
        runner.start()
        try:
            until(lambda: len(stash.subscriptions.hub) == 1 and len(plex.notifier.hub) == 1)
            time.sleep(2.0)  # the first sync
            results = {
                "identify": [identify_run(plex, stash, n) for n in range(args.runs)],
                "scan": [scan_run(plex, stash, n) for n in range(args.runs)],
            }
        finally:
            engine.request_stop()
            runner.join(5)
            live.stop()
            engine.close()
            store.close()
    for name, times in results.items():
        print(
            f"{name:9s} median {statistics.median(times):.3f} s  "
            f"min {min(times):.3f} s  max {max(times):.3f} s  (n={len(times)}, "
            f"poll interval {args.poll_interval:g} s)"
        )


if __name__ == "__main__":
    main()
