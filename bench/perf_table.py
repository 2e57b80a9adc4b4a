"""The four cost figures of issue 15, as medians of 3, in one Markdown table.

1. Plex requests per changed scene (a metadata-only churn after a first sync), posters off/on.
2. One changed scene in a 100,000-movie Plex: Plex requests and seconds of the whole
   `plexsync run --once`.
3. Scenes per second on a first sync with 0 ms and 30 ms of simulated Plex latency.
4. CPU milliseconds per synced scene in the `plexsync` process (first sync, 0 ms).

The simulators are this checkout's; the engine under test is `--engine-root` (default: this
checkout), so the same script measures an older tree, e.g. an export of main. Usage:

    python bench/perf_table.py [--repeats 3] [--engine-root PATH]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config.file import PlexSyncConfig, save_config  # noqa: E402
from plexsync_sim.process import SimProcess  # noqa: E402

TOKEN, KEY = "bench-token-0123456789", "bench-key-0123456789"
SCENES = 2000  # first sync and churn figures
CHURN = 20
BIG_LIBRARY = 100_000
BIG_SCENES = 200  # Stash scenes synced into the big library before the single change
SLOW_SCENES = 300  # first sync at 30 ms (one request at a time takes ~10 s for these)
LATENCY_MS = 30
RUN = ("run", "--once")
# Issue 24's options: all off reproduces what older trees do (the table's first rows, measured
# back to back against them); all on is the cost of carrying everything Plex can hold.
OPTIONS_OFF: dict[str, Any] = {"sync_director": False, "code_field": "off", "sync_rating": False}
OPTIONS_ON: dict[str, Any] = {
    "sync_director": True,
    "code_field": "tagline",
    "sync_rating": True,
    "content_rating": "XXX",
    "sync_added_at": True,
    "sync_sort_title": True,
    "tags_as": "both",
}


class Setup:
    """Two simulators and a config directory for one measurement."""

    def __init__(self, plex: SimProcess, stash: SimProcess, config_dir: Path, root: Path) -> None:
        self.plex, self.stash, self.config_dir, self.root = plex, stash, config_dir, root

    def run_once(self) -> tuple[float, float]:
        """Wall seconds and CPU seconds (user + system) of one `plexsync run --once`."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        code = subprocess.call(
            [sys.executable, "-m", "engine.cli", "--config-dir", str(self.config_dir), *RUN],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.root,
        )
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if code != 0:
            raise RuntimeError(f"plexsync run --once exited {code}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return seconds, cpu

    def plex_stats(self, *, reset: bool = True) -> dict[str, Any]:
        stats: dict[str, Any] = self.plex.control("GET", "stats")
        if reset:
            self.plex.control("DELETE", "stats")
        return stats


@contextmanager
def setup(
    root: Path,
    *,
    movies: int,
    scenes: int,
    posters: bool,
    plex_args: tuple[str, ...] = (),
    options: dict[str, Any] | None = None,
) -> Iterator[Setup]:
    with (
        SimProcess(
            "plex", "--token", TOKEN, "--movies", str(movies), "--seed", "11", *plex_args
        ) as plex,
        SimProcess("stash", "--api-key", KEY, "--scenes", str(scenes), "--seed", "11") as stash,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config = PlexSyncConfig(
            plex_url=plex.url,
            plex_token=TOKEN,
            stash_url=stash.url,
            stash_api_key=KEY,
            sync_poster=posters,
            path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],
        )
        path = Path(tmp) / "config.json"
        save_config(config, path)
        if options:  # written into the file as they are: an older tree never sees them
            data = json.loads(path.read_text(encoding="utf-8"))
            path.write_text(json.dumps({**data, **options}), encoding="utf-8")
        yield Setup(plex, stash, Path(tmp), root)


def synced(stats: dict[str, Any]) -> int:
    return int(stats["by_route"].get("PUT /library/sections/{id}/all", 0))


def churn_cost(
    root: Path, posters: bool, options: dict[str, Any] | None = None
) -> dict[str, float]:
    """First sync (also the 0 ms throughput and CPU figures), then a metadata-only churn."""
    with setup(root, movies=SCENES, scenes=SCENES, posters=posters, options=options) as s:
        seconds, cpu = s.run_once()
        first = s.plex_stats()
        count = synced(first)
        changed = s.stash.control("POST", "churn", {"count": CHURN})["changed"]
        s.run_once()
        requests = int(s.plex_stats()["requests"])
    return {
        "req_per_changed": requests / len(changed),
        "scenes_per_s": count / seconds,
        "cpu_ms": 1000 * cpu / max(1, count),
        "first_req_per_scene": first["requests"] / max(1, count),
    }


def big_library(root: Path) -> dict[str, float]:
    with setup(root, movies=BIG_LIBRARY, scenes=BIG_SCENES, posters=True) as s:
        s.run_once()
        s.plex_stats()
        s.stash.control("POST", "churn", {"count": 1})
        seconds, _ = s.run_once()
        return {"big_requests": float(s.plex_stats()["requests"]), "big_seconds": seconds}


def slow_plex(root: Path, options: dict[str, Any] | None = None) -> dict[str, float]:
    latency = ("--latency-ms", str(LATENCY_MS))
    with setup(
        root,
        movies=SLOW_SCENES,
        scenes=SLOW_SCENES,
        posters=False,
        plex_args=latency,
        options=options,
    ) as s:
        seconds, _ = s.run_once()
        stats = s.plex_stats()
        count = synced(stats)
        return {
            "slow_scenes_per_s": count / seconds,
            "slow_req_per_scene": stats["requests"] / count,
        }


def medians(measure: Callable[[], dict[str, float]], repeats: int) -> dict[str, float]:
    runs = [measure() for _ in range(repeats)]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=False
        ).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine-root", type=Path, default=ROOT)
    parser.add_argument(
        "--old-tree",
        action="store_true",
        help="the engine root predates issue 24: no option rows, no options in its config",
    )
    args = parser.parse_args()
    root = args.engine_root.resolve()
    off = None if args.old_tree else OPTIONS_OFF
    # An installed app starts from compiled bytecode (pip compiles at install); a checkout run
    # with PYTHONDONTWRITEBYTECODE would compile every module on every start instead.
    compileall.compile_dir(root / "engine", quiet=1)
    plain = medians(lambda: churn_cost(root, False, off), args.repeats)
    on = medians(lambda: churn_cost(root, True, off), args.repeats)
    big = medians(lambda: big_library(root), args.repeats)
    slow = medians(lambda: slow_plex(root, off), args.repeats)
    rows = [
        ("Plex requests per changed scene, posters off", f"{plain['req_per_changed']:.2f}"),
        ("Plex requests per changed scene, posters on", f"{on['req_per_changed']:.2f}"),
        ("100,000 movies, one changed scene: Plex requests", f"{big['big_requests']:.0f}"),
        ("100,000 movies, one changed scene: seconds", f"{big['big_seconds']:.2f}"),
        (f"first sync scenes/s, 0 ms ({SCENES:,} scenes)", f"{plain['scenes_per_s']:.0f}"),
        (
            f"first sync scenes/s, {LATENCY_MS} ms ({SLOW_SCENES} scenes)",
            f"{slow['slow_scenes_per_s']:.1f}",
        ),
        (
            f"Plex requests per scene, first sync at {LATENCY_MS} ms",
            f"{slow['slow_req_per_scene']:.3f}",
        ),
        ("CPU ms per synced scene (plexsync process)", f"{plain['cpu_ms']:.2f}"),
    ]
    if not args.old_tree:
        every = medians(lambda: churn_cost(root, False, OPTIONS_ON), args.repeats)
        every_slow = medians(lambda: slow_plex(root, OPTIONS_ON), args.repeats)
        rows += [
            (
                "every issue-24 option on: Plex requests per scene, first sync, 0 ms",
                f"{every['first_req_per_scene']:.3f}",
            ),
            ("every option on: first sync scenes/s, 0 ms", f"{every['scenes_per_s']:.0f}"),
            (
                f"every option on: first sync scenes/s, {LATENCY_MS} ms",
                f"{every_slow['slow_scenes_per_s']:.1f}",
            ),
            (
                f"every option on: Plex requests per scene at {LATENCY_MS} ms",
                f"{every_slow['slow_req_per_scene']:.3f}",
            ),
            ("every option on: CPU ms per synced scene", f"{every['cpu_ms']:.2f}"),
        ]
    print(f"| figure ({root.name}) | median of {args.repeats} |")
    print("|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"\nMachine: {machine()}; Python {platform.python_version()}")


if __name__ == "__main__":
    main()
