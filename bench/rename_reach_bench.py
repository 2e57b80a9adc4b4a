"""How soon a tag rename, a tag merge and a tag delete made in Stash reach Plex, and with how many
writes (issue 21): 200 scenes against a real Stash, 2,000 against our simulator.

Every scene is shaped through Stash's own GraphQL (the simulator answers the same mutations):
each carries a base tag; every 3rd also the tag renamed, every 2nd the tag merged into the base
tag, every 4th (from the 2nd) the tag deleted. After the first sync each change is made once,
then the engine runs on a fake clock (a poll every --poll seconds) until every affected Plex
item shows it. Reported per change: the scenes whose Plex item changes, the PUTs Plex received,
"reached" (fake-clock seconds from the change to the last item written: at most one poll
interval when the change is seen by the next poll), and the wall seconds the sync took.

    PLEXSYNC_REAL_STASH_URL=http://127.0.0.1:9999 PLEXSYNC_REAL_STASH_API_KEY=... \\
        .venv/bin/python bench/rename_reach_bench.py --real
    .venv/bin/python bench/rename_reach_bench.py --scenes 2000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "real_stash"))

from fake_clock import FakeClock  # noqa: E402
from stash_admin import RealStash  # noqa: E402

from engine.config.file import PlexSyncConfig  # noqa: E402
from engine.plex.client import PlexClient  # noqa: E402
from engine.stash.client import StashClient  # noqa: E402
from engine.store.jobs import JobStore  # noqa: E402
from engine.sync.engine import SyncEngine  # noqa: E402
from plexsync_sim.plex.server import PlexSimulator  # noqa: E402
from plexsync_sim.stash.server import StashSimulator  # noqa: E402

TOKEN = "plex-token-0123456789"
EDIT_ROUTE = "PUT /library/sections/{id}/all"
SIM_KEY = "bench-key"


def shape(stash: RealStash, scenes: list[dict[str, Any]]) -> dict[str, str]:
    ids = {label: stash.create("tag", label) for label in ("base", "renamed", "merged", "gone")}
    for n, scene in enumerate(scenes):
        tags = [ids["base"]]
        tags += [ids["renamed"]] if n % 3 == 0 else []
        tags += [ids["merged"]] if n % 2 == 0 else []
        tags += [ids["gone"]] if n % 4 == 1 else []
        stash.update_scene(scene["id"], title=stash.name(f"scene {n}"), tag_ids=tags)
    return ids


def measure(
    stash: RealStash, scenes: list[dict[str, Any]], poll: float, label: str
) -> list[dict[str, Any]]:
    root = os.path.commonpath([s["files"][0]["path"] for s in scenes])
    ids = shape(stash, scenes)
    clock = FakeClock()
    results = []
    with PlexSimulator(token=TOKEN, movies=0) as plex, tempfile.TemporaryDirectory() as tmp:
        keys = [plex.add_movie("/media" + s["files"][0]["path"][len(root) :]) for s in scenes]
        config = PlexSyncConfig(
            plex_url=plex.url,
            plex_token=TOKEN,
            stash_url=stash.url,
            stash_api_key=stash.api_key,
            poll_interval=poll,
            path_mappings=[{"stash_prefix": root, "plex_prefix": "/media"}],
            live_updates=False,
            sync_poster=False,
        )
        store = JobStore(Path(tmp) / "bench.sqlite3", clock=clock)
        engine = SyncEngine(
            config=config,
            store=store,
            plex_factory=PlexClient,
            stash_factory=StashClient,
            clock=clock,
            rng=random.Random(0),
        )
        try:
            _run_until(engine, clock, lambda: all(_genres(plex, k) for k in keys))
            renamed, merged, gone = (stash.name(t) for t in ("renamed", "merged", "gone"))
            changes: list[tuple[str, Callable[[], None], list[int], Callable[[set[str]], bool]]] = [
                (
                    "tag rename",
                    lambda: stash.rename("tag", ids["renamed"], "renamed, now"),
                    [k for n, k in enumerate(keys) if n % 3 == 0],
                    lambda g: stash.name("renamed, now") in g and renamed not in g,
                ),
                (
                    "tag merge",
                    lambda: stash.merge_tags([ids["merged"]], ids["base"]),
                    [k for n, k in enumerate(keys) if n % 2 == 0],
                    lambda g: merged not in g,
                ),
                (
                    "tag delete",
                    lambda: stash.destroy("tag", ids["gone"]),
                    [k for n, k in enumerate(keys) if n % 4 == 1],
                    lambda g: gone not in g,
                ),
            ]
            for name, change, affected, shows in changes:
                plex.reset_stats()
                change()
                started, wall = clock.now(), time.perf_counter()
                reached = _run_until(
                    engine, clock, lambda a=affected, s=shows: all(s(_genres(plex, k)) for k in a)
                )
                results.append(
                    {
                        "where": label,
                        "change": name,
                        "scenes": len(scenes),
                        "changed": len(affected),
                        "puts": int(plex.stats()["by_route"].get(EDIT_ROUTE, 0)),
                        "reached": reached - started,
                        "sync": time.perf_counter() - wall,
                        "poll": poll,
                    }
                )
        finally:
            engine.close()
            store.close()
    return results


def _genres(plex: PlexSimulator, key: int) -> set[str]:
    item = plex.item(key)
    return set(item["genres"]) if item else set()


def _run_until(engine: SyncEngine, clock: FakeClock, done: Callable[[], bool]) -> float:
    """Tick on the fake clock until the engine is idle and `done`; the clock when it was."""
    for _ in range(200_000):
        delay = engine.tick(budget=5.0)
        status = engine.status()
        if status.pending == 0 and status.in_progress == 0 and done():
            return clock.now()
        clock.advance(min(max(delay, 0.05), 1.0))
    raise SystemExit("the engine never showed the change in Plex")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", action="store_true", help="PLEXSYNC_REAL_STASH_URL's Stash")
    parser.add_argument("--scenes", type=int, default=2000, help="simulator scenes")
    parser.add_argument("--poll", type=float, default=30.0, help="poll interval (seconds)")
    args = parser.parse_args()
    if args.real:
        stash = RealStash.from_environment()
        try:
            scenes = stash.scanned_scenes()
            rows = measure(stash, scenes, args.poll, "real Stash")
        finally:
            stash.remove_made()
            stash.close()
    else:
        # about 2% of the simulator's scenes have no file: make enough for --scenes with one
        made = args.scenes + args.scenes // 20 + 10
        with StashSimulator(api_key=SIM_KEY, scenes=made, scanned_only=True) as sim:
            stash = RealStash(sim.url, SIM_KEY)
            scenes = stash.scanned_scenes()[: args.scenes]
            rows = measure(stash, scenes, args.poll, "simulator")
            stash.close()
    header = ("Stash", "change", "scenes", "Plex items changed", "PUTs", "reached Plex after")
    print("| " + " | ".join(header) + " | sync time |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['where']} | {r['change']} | {r['scenes']:,} | {r['changed']:,} | {r['puts']:,}"
            f" | {r['reached']:.1f} s (poll {r['poll']:.0f} s) | {r['sync']:.2f} s |"
        )


if __name__ == "__main__":
    main()
