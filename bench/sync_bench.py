"""Sync throughput and cost: simulators and `plexsync run --once` as separate processes.

Prints a table of medians: scenes per second, Plex requests per synced scene (from the Plex
simulator's own counters) and the peak RSS of the sync process. Usage:

    python bench/sync_bench.py                 # 2,000 scenes, 3 repeats
    python bench/sync_bench.py --scenes 2000 20000 --repeats 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config.file import PlexSyncConfig, save_config  # noqa: E402
from plexsync_sim.process import SimProcess  # noqa: E402

TOKEN, KEY = "bench-token-0123456789", "bench-key-0123456789"


def run_once(config_dir: Path) -> tuple[float, int, int]:
    """Seconds, exit code and peak RSS (KiB) of one `plexsync run --once`.

    The peak is the child's own VmHWM, sampled from /proc: getrusage's ru_maxrss would also
    count the parent's memory that the child held between fork and exec.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "--config-dir", str(config_dir), "run", "--once"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    peak = 0
    status_file = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        peak = max(peak, _vm_hwm(status_file))
        time.sleep(0.02)
    return time.perf_counter() - started, proc.returncode, peak


def _vm_hwm(status_file: Path) -> int:
    try:
        for line in status_file.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass  # the process ended between two samples
    return 0


def plex_requests(plex: SimProcess) -> int:
    stats: dict[str, Any] = plex.control("GET", "stats")
    return int(stats["requests"])


def scenario(n: int, *, posters: bool, churn: int) -> dict[str, float]:
    """First sync, then an unchanged rerun, then a rerun after `churn` scene changes."""
    with (
        SimProcess("plex", "--token", TOKEN, "--movies", str(n), "--seed", "11") as plex,
        SimProcess("stash", "--api-key", KEY, "--scenes", str(n), "--seed", "11") as stash,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config_dir = Path(tmp)
        config = PlexSyncConfig(
            plex_url=plex.url,
            plex_token=TOKEN,
            stash_url=stash.url,
            stash_api_key=KEY,
            sync_poster=posters,
            path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],
        )
        save_config(config, config_dir / "config.json")
        seconds, code, rss = run_once(config_dir)
        assert code == 0, "first sync failed"
        stats = plex.control("GET", "stats")
        synced = int(stats["by_route"]["PUT /library/sections/{id}/all"])  # one per scene
        first_requests = int(stats["requests"])
        plex.control("DELETE", "stats")
        _, code, _ = run_once(config_dir)
        assert code == 0
        unchanged_requests = plex_requests(plex)
        plex.control("DELETE", "stats")
        changed = stash.control("POST", "churn", {"count": churn})
        churn_seconds, code, _ = run_once(config_dir)
        assert code == 0
        churn_requests = plex_requests(plex)
        return {
            "scenes_per_s": synced / seconds,
            "first_req_per_scene": first_requests / synced,
            "unchanged_requests": unchanged_requests,
            "churn_req_per_changed": churn_requests / max(1, len(changed["changed"])),
            "peak_rss_mib": rss / 1024,
            "synced": synced,
            "churn_seconds": churn_seconds,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, nargs="+", default=[2000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--churn", type=float, default=0.1, help="share of scenes changed")
    args = parser.parse_args()
    rows = []
    for n in args.scenes:
        for posters in (False, True):
            runs = [
                scenario(n, posters=posters, churn=max(1, int(n * args.churn)))
                for _ in range(args.repeats)
            ]
            med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            rows.append((n, posters, med))
            print(f"done: {n} scenes, posters={posters}", file=sys.stderr)
    print(
        "| scenes | posters | scenes/s | Plex req/scene (first) | Plex req (unchanged rerun) "
        "| Plex req/changed scene | peak RSS MiB |"
    )
    print("|---:|:---:|---:|---:|---:|---:|---:|")
    for n, posters, med in rows:
        print(
            f"| {n:,} | {'on' if posters else 'off'} | {med['scenes_per_s']:.0f} "
            f"| {med['first_req_per_scene']:.3f} | {med['unchanged_requests']:.0f} "
            f"| {med['churn_req_per_changed']:.3f} | {med['peak_rss_mib']:.0f} |"
        )
    print(f"(medians of {args.repeats} run(s); {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
