"""Where the engine thread's CPU goes on a first sync: cProfile around `SyncEngine.tick`.

Two simulator processes (as `perf_table.py` uses them), the engine in this process with the
real clock, a profiler enabled only while a tick runs. Prints CPU ms per synced scene for the
ticks and the top functions by own and cumulative time. Usage:

    python bench/profile_engine.py [--scenes 2000] [--top 30] [--posters]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config.file import PlexSyncConfig  # noqa: E402
from engine.plex.client import PlexClient  # noqa: E402
from engine.stash.client import StashClient  # noqa: E402
from engine.store.jobs import JobStore  # noqa: E402
from engine.sync.engine import SyncEngine  # noqa: E402
from plexsync_sim.process import SimProcess  # noqa: E402

TOKEN, KEY = "bench-token-0123456789", "bench-key-0123456789"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--posters", action="store_true")
    parser.add_argument("--max-in-flight", type=int, default=4)
    parser.add_argument("--no-profile", action="store_true", help="CPU figure only")
    args = parser.parse_args()
    n = str(args.scenes)
    with (
        SimProcess("plex", "--token", TOKEN, "--movies", n, "--seed", "11") as plex,
        SimProcess("stash", "--api-key", KEY, "--scenes", n, "--seed", "11") as stash,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config = PlexSyncConfig(
            plex_url=plex.url,
            plex_token=TOKEN,
            stash_url=stash.url,
            stash_api_key=KEY,
            sync_poster=args.posters,
            max_in_flight=args.max_in_flight,
            path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],
        )
        store = JobStore(Path(tmp) / "plexsync.sqlite3")
        engine = SyncEngine(
            config=config,
            store=store,
            plex_factory=PlexClient,
            stash_factory=StashClient,
            idle_probes=False,
        )
        profile = cProfile.Profile(time.process_time)  # CPU, not time spent waiting
        cpu = 0.0
        try:
            while True:
                started = time.process_time()
                if not args.no_profile:
                    profile.enable()
                delay = engine.tick()
                profile.disable()
                cpu += time.process_time() - started
                status = engine.status()
                if delay > 0 and status.pending == 0 and status.in_progress == 0:
                    break
        finally:
            engine.close()
            store.close()
        routes = plex.control("GET", "stats")["by_route"]
        synced = int(routes.get("PUT /library/sections/{id}/all", 0))
        limit = engine._runner.aimd.limit  # what the limit settled at
    per_scene = 1000 * cpu / max(1, synced)
    print(f"{synced} scenes synced, in flight at the end {limit}; {per_scene:.2f} CPU ms/scene")
    if args.no_profile:
        return
    stats = pstats.Stats(profile).strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
