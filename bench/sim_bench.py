"""Simulator figures: keep-alive requests per second and memory with 100,000 items.

Run with ``.venv/bin/python bench/sim_bench.py [--runs 5] [--requests 2000]``. Each simulator
runs as its own process (``python -m plexsync_sim``), so the client does not share its GIL.
Figures are medians of ``--runs`` runs. RSS is read from /proc (Linux only).
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plexsync_sim.process import SimProcess

TOKEN = "bench-token"
API_KEY = "bench-key"
ITEMS = 100_000
PAGE = 1_000
FIND = (
    "query($filter: FindFilterType) { findScenes(filter: $filter) { count scenes {"
    " id title updated_at files { path } studio { name } performers { name } tags { name } } } }"
)


def rss_mib(pid: int | None) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def requests_per_second(url: str, count: int) -> float:
    with requests.Session() as session:
        session.get(f"{url}/identity", headers={"X-Plex-Token": TOKEN}, timeout=(5, 30))
        started = time.perf_counter()
        for _ in range(count):
            answer = session.get(f"{url}/identity", headers={"X-Plex-Token": TOKEN}, timeout=30)
            assert answer.status_code == 200
        return count / (time.perf_counter() - started)


def raw_requests_per_second(port: int, count: int) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        started = time.perf_counter()
        for _ in range(count):
            connection.request("GET", "/identity", headers={"X-Plex-Token": TOKEN})
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
        return count / (time.perf_counter() - started)
    finally:
        connection.close()


def page_plex(url: str) -> float:
    started = time.perf_counter()
    with requests.Session() as session:
        for start in range(0, ITEMS, PAGE):
            headers = {
                "X-Plex-Token": TOKEN,
                "X-Plex-Container-Start": str(start),
                "X-Plex-Container-Size": str(PAGE),
            }
            answer = session.get(f"{url}/library/sections/1/all", headers=headers, timeout=60)
            assert answer.status_code == 200
    return time.perf_counter() - started


def page_stash(url: str) -> float:
    started = time.perf_counter()
    with requests.Session() as session:
        for number in range(1, ITEMS // PAGE + 1):
            variables = {"filter": {"page": number, "per_page": PAGE, "sort": "updated_at"}}
            answer = session.post(
                f"{url}/graphql",
                json={"query": FIND, "variables": variables},
                headers={"ApiKey": API_KEY},
                timeout=60,
            )
            assert answer.status_code == 200 and "errors" not in answer.json()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []

    plex_args = ("--token", TOKEN, "--movies", str(ITEMS), "--seed", "1")
    with SimProcess("plex", *plex_args) as plex:
        session_rates = [requests_per_second(plex.url, args.requests) for _ in range(args.runs)]
        raw_rates = [raw_requests_per_second(plex.port, args.requests) for _ in range(args.runs)]
        before = rss_mib(plex.pid)
        passes = [page_plex(plex.url) for _ in range(2)]
        after_one = rss_mib(plex.pid)
        passes += [page_plex(plex.url) for _ in range(max(0, args.runs - 2))]
        after_all = rss_mib(plex.pid)
    session_rate, raw_rate = statistics.median(session_rates), statistics.median(raw_rates)
    rows += [
        ("Plex GET /identity, keep-alive, requests.Session", f"{session_rate:,.0f} req/s"),
        ("Plex GET /identity, keep-alive, http.client", f"{raw_rate:,.0f} req/s"),
        ("Plex RSS, 100,000 movies, idle", f"{before:.1f} MiB"),
        ("Plex RSS after paging all 100,000 (1,000/page)", f"{after_one:.1f} MiB"),
        (f"Plex RSS after {len(passes)} full passes", f"{after_all:.1f} MiB"),
        ("Plex full pass, 100 pages of 1,000 (median)", f"{statistics.median(passes):.2f} s"),
    ]

    stash_args = ("--api-key", API_KEY, "--scenes", str(ITEMS), "--seed", "1")
    with SimProcess("stash", *stash_args) as stash:
        before = rss_mib(stash.pid)
        passes = [page_stash(stash.url)]
        after_one = rss_mib(stash.pid)
        passes += [page_stash(stash.url) for _ in range(2)]
        after_all = rss_mib(stash.pid)
    rows += [
        ("Stash RSS, 100,000 scenes, idle", f"{before:.1f} MiB"),
        ("Stash RSS after 1 full findScenes pass", f"{after_one:.1f} MiB"),
        ("Stash RSS after 3 full findScenes passes", f"{after_all:.1f} MiB"),
        ("Stash full pass, 100 pages of 1,000 (median)", f"{statistics.median(passes):.2f} s"),
    ]

    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 14}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
