"""Library check cost: simulators and `plexsync check` as separate processes (issue 13).

After a first `plexsync run --once`, times `plexsync check --json` on an unchanged library and
after user edits in Plex (titles, and tag lists a listing cannot show whole), and counts the Plex
requests with the simulator's own counters. A second library, synced the same way, gets
collection-side edits (issue 21: members added and removed through the collection's own
endpoints, as Kometa or plexapi's `Collection.addItems`/`removeItems` do, which leave the items'
`updatedAt` alone). Prints medians. Usage:

    python bench/check_bench.py                        # 2,000 and 20,000 scenes, 3 repeats
    python bench/check_bench.py --scenes 2000 --repeats 1
    python bench/check_bench.py --only collections     # just the collection-side scenario
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config.file import PlexSyncConfig, save_config  # noqa: E402
from plexsync_sim.process import SimProcess  # noqa: E402

TOKEN, KEY = "bench-token-0123456789", "bench-key-0123456789"
PAGE = 1000  # Plex listing page size (engine/plex/client.py PAGE_SIZE)


def plexsync(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "--config-dir", str(config_dir), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def timed_check(config_dir: Path, plex: SimProcess) -> dict[str, float]:
    plex.control("DELETE", "stats")
    started = time.perf_counter()
    result = plexsync(config_dir, "check", "--json")
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise RuntimeError(result.stderr)
    data: dict[str, Any] = json.loads(result.stdout)
    stats: dict[str, Any] = plex.control("GET", "stats")
    writes = sum(v for k, v in stats["by_method"].items() if k != "GET")
    return {
        "seconds": seconds,
        "requests": stats["requests"],
        "writes": writes,
        "full_reads": data["full_reads"],
        "drifted": data["counts"]["drifted"],
        "scenes": data["scenes"],
    }


def user_edits(plex: SimProcess, count: int, round_: int) -> None:
    """`count` titles and `count` genre lists changed in Plex, as Plex Web would."""
    time.sleep(1.1)  # Plex's updatedAt has whole seconds: these land after what came before
    with requests.Session() as http:
        for i in range(count):
            edits = ((1001 + 14 * i, {"title.value": f"User title {i}/{round_}"}),
                     (1008 + 14 * i, {"genre[0].tag.tag": f"Mine {round_}"}))  # fmt: skip
            for rating_key, params in edits:
                query = {"type": "1", "id": str(rating_key), **params}
                http.put(
                    f"{plex.url}/library/sections/1/all",
                    params=query,
                    headers={"X-Plex-Token": TOKEN},
                    timeout=10,
                ).raise_for_status()


def collection_edits(plex: SimProcess, count: int, round_: int) -> None:
    """`count` items join a collection of the user's and `count` others leave ours (the
    studio's), both from the collection's side, on items no earlier round touched."""
    time.sleep(1.1)
    headers = {"X-Plex-Token": TOKEN}
    with requests.Session() as http:
        base = round_ * count * 6
        joining = [1004 + base + 6 * i for i in range(count)]
        uri = "server://sim/com.plexapp.plugins.library/library/metadata/"
        http.post(
            f"{plex.url}/library/collections",
            params={"type": "1", "title": f"Kometa {round_}", "smart": "0", "sectionId": "1",
                    "uri": uri + ",".join(map(str, joining))},
            headers=headers,
            timeout=30,
        ).raise_for_status()  # fmt: skip
        listed = http.get(f"{plex.url}/library/sections/1/collections", headers=headers, timeout=30)
        keys = {
            node.get("title"): node.get("ratingKey")
            for node in ElementTree.fromstring(listed.content).iter("Directory")
        }
        for i in range(count):
            rating_key = 1001 + base + 6 * i
            item = http.get(
                f"{plex.url}/library/metadata/{rating_key}", headers=headers, timeout=30
            )
            for tag in ElementTree.fromstring(item.content).iter("Collection"):
                http.delete(
                    f"{plex.url}/library/collections/{keys[tag.get('tag')]}/items/{rating_key}",
                    headers=headers,
                    timeout=30,
                ).raise_for_status()


@contextmanager
def synced_library(n: int) -> Iterator[tuple[Path, SimProcess]]:
    """Both simulators with `n` scenes and movies, after a first `plexsync run --once`."""
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
            sync_poster=False,
            path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],
        )
        save_config(config, config_dir / "config.json")
        if plexsync(config_dir, "run", "--once").returncode != 0:
            raise RuntimeError("the first sync failed")
        time.sleep(1.1)  # Plex's updatedAt has whole seconds: edits land after our writes
        yield config_dir, plex


def collection_scenario(n: int, repeats: int, edits: int) -> dict[str, dict[str, float]]:
    with synced_library(n) as (config_dir, plex):
        clean = [timed_check(config_dir, plex) for _ in range(repeats)]
        edited = []
        for round_ in range(repeats):
            collection_edits(plex, edits, round_)
            edited.append(timed_check(config_dir, plex))
        again = [timed_check(config_dir, plex) for _ in range(repeats)]
    return {
        "unchanged (second library)": _medians(clean),
        f"{2 * edits} collection-side edits": _medians(edited),
        "same collection edits, checked again": _medians(again),
    }


def scenario(n: int, repeats: int, edits: int) -> dict[str, dict[str, float]]:
    with synced_library(n) as (config_dir, plex):
        clean = [timed_check(config_dir, plex) for _ in range(repeats)]
        drifted = []
        for round_ in range(repeats):
            user_edits(plex, edits, round_)
            drifted.append(timed_check(config_dir, plex))
        again = [timed_check(config_dir, plex) for _ in range(repeats)]
    return {
        "unchanged": _medians(clean),
        f"{2 * edits} items edited in Plex": _medians(drifted),
        "same drift, checked again": _medians(again),
    }


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--edits", type=int, default=100, help="titles and genre lists each")
    parser.add_argument("--only", choices=("edits", "collections"), help="one scenario only")
    args = parser.parse_args()
    print(
        "| scenes | library | seconds | scenes/s | Plex requests | bound 2 + pages + reads "
        "| full reads | writes | drifted found |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.scenes:
        result: dict[str, dict[str, float]] = {}
        if args.only != "collections":
            result.update(scenario(n, args.repeats, args.edits))
        if args.only != "edits":
            result.update(collection_scenario(n, args.repeats, args.edits))
        for label, row in result.items():
            bound = 2 + math.ceil(n / PAGE) + row["full_reads"]
            print(
                f"| {n:,} | {label} | {row['seconds']:.1f} | {row['scenes'] / row['seconds']:,.0f}"
                f" | {row['requests']:.0f} | {bound:.0f} | {row['full_reads']:.0f}"
                f" | {row['writes']:.0f} | {row['drifted']:.0f} |"
            )


if __name__ == "__main__":
    main()
