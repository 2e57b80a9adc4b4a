"""Cost of the presence sweep (which known tags, performers and studios still exist) against a
running Stash: the engine's aliased single-object lookups against id-only listings.

Issue 21 asks for 10,000 tags, 2,000 performers and 500 studios. The bench makes what is missing
(names starting "PSB "), then times each way, medians of --rounds:

    PLEXSYNC_REAL_STASH_URL=http://127.0.0.1:9999 PLEXSYNC_REAL_STASH_API_KEY=... \\
        .venv/bin/python bench/stash_presence_bench.py

Without the variables it runs against our simulator (its numbers say little about Stash).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config.file import PlexSyncConfig
from engine.stash.client import StashClient
from engine.stash.objects import IDS_PER_REQUEST, KINDS

WANTED = {"tag": 10_000, "performer": 2_000, "studio": 500}
CREATES_PER_REQUEST = 100


class CountingClient(StashClient):
    requests = 0

    def _post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        CountingClient.requests += 1
        return super()._post(query, variables)


def all_ids(client: CountingClient, kind: str) -> list[str]:
    return sorted(client.object_ids(kind), key=int)


def aliased_lookup(kind: str, ids: list[str]) -> tuple[str, dict[str, Any]]:
    """The alternative: one `find<Kind>(id:)` per id (null for a missing one)."""
    single = KINDS[kind].query[:-1]  # findTags -> findTag
    params = ", ".join(f"$i{n}: ID!" for n in range(len(ids)))
    fields = " ".join(f"o{n}: {single}(id: $i{n}) {{ id }}" for n in range(len(ids)))
    return f"query ({params}) {{ {fields} }}", {f"i{n}": i for n, i in enumerate(ids)}


def fill(client: CountingClient, kind: str, have: int) -> None:
    mutation = f"{kind}Create"
    input_type = f"{kind.title()}CreateInput!"
    for start in range(have, WANTED[kind], CREATES_PER_REQUEST):
        count = min(CREATES_PER_REQUEST, WANTED[kind] - start)
        params = ", ".join(f"$i{n}: {input_type}" for n in range(count))
        fields = " ".join(f"m{n}: {mutation}(input: $i{n}) {{ id }}" for n in range(count))
        variables = {f"i{n}": {"name": f"PSB {kind} {start + n:05d}"} for n in range(count)}
        client._post(f"mutation ({params}) {{ {fields} }}", variables)


def timed(function: Any, rounds: int) -> tuple[float, int]:
    seconds, requests = [], 0
    for _ in range(rounds):
        before = CountingClient.requests
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
        requests = CountingClient.requests - before
    return statistics.median(seconds), requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("PLEXSYNC_REAL_STASH_URL")
    sim = None
    if not url:
        from plexsync_sim.stash.server import StashSimulator

        sim = StashSimulator(api_key="key").start()
        url, key = sim.url, "key"
    else:
        key = os.environ.get("PLEXSYNC_REAL_STASH_API_KEY", "")
    config = PlexSyncConfig(stash_url=url, stash_api_key=key or None)
    client = CountingClient(config)
    rows = []
    try:
        for kind in WANTED:
            ids = all_ids(client, kind)
            if len(ids) < WANTED[kind]:
                fill(client, kind, len(ids))
                ids = all_ids(client, kind)
            known = ids[: WANTED[kind]]

            def lookups(kind: str = kind, known: list[str] = known) -> None:
                for start in range(0, len(known), IDS_PER_REQUEST):
                    client._post(*aliased_lookup(kind, known[start : start + IDS_PER_REQUEST]))

            def listing(kind: str = kind) -> None:
                client.object_ids(kind)

            ways = (("aliased lookups", lookups), ("id-only listing (the engine's)", listing))
            for way, function in ways:
                seconds, requests = timed(function, args.rounds)
                rows.append((kind, len(known), way, requests, seconds))
    finally:
        client.close()
        if sim is not None:
            sim.stop()
    print(f"Stash at {url}, medians of {args.rounds}")
    print("| kind | known | way | requests | seconds |")
    print("|---|---:|---|---:|---:|")
    for kind, count, way, requests, seconds in rows:
        print(f"| {kind} | {count:,} | {way} | {requests} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
