"""A flood on each live stream: the engine's peak RSS and CPU, and the requests it caused.

Run with ``.venv/bin/python bench/live_flood_bench.py [--messages 360000] [--runs 3]``. The
simulators and a flooding websocket server run in this process; the engine runs in a child
process (so its RSS and CPU are its own), with the real clients and the default 30 s poll
interval, as `plexsync run` runs it. After the first sync (and, for Plex, with one scene waiting
because Plex lacks its file, so every "items added" is worth a look), the flood server sends
`--messages` messages as fast as the socket takes them: Plex "item created" timeline
notifications, or Stash `jobsSubscribe` REMOVE updates. Requests are counted by the simulators
from the flood's start until 2 s after the engine read the last message (bounded: 180 s).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from websockets.sync.server import ServerConnection, serve

from engine.config.file import PathMapping, PlexSyncConfig
from engine.live.messages import LiveEvent
from engine.live.plex import PlexNotifications
from engine.live.stash import StashJobs
from engine.live.stream import Backoff, StreamWorker
from engine.plex.client import PlexClient
from engine.stash.client import StashClient
from engine.store.jobs import JobStore
from engine.sync.engine import SyncEngine
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

TOKEN = "bench-token-0123456789"
API_KEY = "bench-key-0123456789"
LIMIT = 180.0  # seconds a run may take at most


def plex_message(n: int) -> str:
    entry = {
        "identifier": "com.plexapp.plugins.library",
        "sectionID": "1",
        "itemID": str(100_000 + n),
        "type": 1,
        "state": 0,
        "metadataState": "created",
    }
    return json.dumps({"NotificationContainer": {"type": "timeline", "TimelineEntry": [entry]}})


def stash_message(n: int) -> str:
    update = {"type": "REMOVE", "job": {"id": str(n), "status": "FINISHED"}}
    return json.dumps(
        {"id": "jobs", "type": "next", "payload": {"data": {"jobsSubscribe": update}}}
    )


def flood_handler(kind: str, count: int) -> object:
    def handler(connection: ServerConnection) -> None:
        if kind == "stash":
            connection.recv(timeout=10)  # connection_init
            connection.send(json.dumps({"type": "connection_ack"}))
            connection.recv(timeout=10)  # subscribe
        make = stash_message if kind == "stash" else plex_message
        for n in range(count):
            connection.send(make(n))
        try:
            while True:
                connection.recv(timeout=LIMIT)
        except Exception:
            return

    return handler


def child(kind: str, plex_url: str, stash_url: str, flood_port: int, count: int) -> None:
    """The engine process: first sync, then read the flood; prints its figures as JSON."""
    with tempfile.TemporaryDirectory() as data:
        config = PlexSyncConfig(
            plex_url=plex_url,
            plex_token=TOKEN,
            stash_url=stash_url,
            stash_api_key=API_KEY,
            path_mappings=[PathMapping(stash_prefix="/data", plex_prefix="/media")],
        )
        store = JobStore(Path(data) / "bench.sqlite3")
        engine = SyncEngine(
            config=config, store=store, plex_factory=PlexClient, stash_factory=StashClient
        )
        runner = threading.Thread(target=engine.run, daemon=True)
        runner.start()
        time.sleep(3.0)  # the first sync
        print("READY", flush=True)
        sys.stdin.readline()  # the parent reset the simulators' counts
        flood = config.model_copy(
            update={"plex_url": f"http://127.0.0.1:{flood_port}", "stash_url": plex_url}
        )
        if kind == "stash":
            flood = config.model_copy(update={"stash_url": f"http://127.0.0.1:{flood_port}"})
        read = [0]

        def deliver(event: LiveEvent) -> None:
            read[0] += 1
            engine.live_signal(event)

        stream = StashJobs() if kind == "stash" else PlexNotifications()
        expected = count if kind == "stash" else 2 * count  # Plex: news and a signal each
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        worker = StreamWorker(
            stream,
            config=lambda: flood,
            deliver=deliver,
            rng=__import__("random").Random(1),
            backoff=Backoff(base=0.1, cap=5.0),
        )
        worker.start()
        while read[0] < expected and time.monotonic() - started < LIMIT:
            time.sleep(0.05)
        seconds = time.monotonic() - started
        time.sleep(2.0)  # the follow-ups that were folded run
        after = resource.getrusage(resource.RUSAGE_SELF)
        worker.stop(2.0)
        engine.request_stop()
        runner.join(5)
        engine.close()
        store.close()
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        figures = {"read": read[0], "seconds": seconds, "cpu": cpu, "rss": after.ru_maxrss}
        print(json.dumps(figures), flush=True)


def run(kind: str, count: int) -> dict[str, float]:
    with (
        PlexSimulator(token=TOKEN, movies=20, seed=5) as plex,
        StashSimulator(api_key=API_KEY, scenes=20, seed=5) as stash,
        serve(flood_handler(kind, count), "127.0.0.1", 0) as server,  # type: ignore[arg-type]
    ):
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        if kind == "plex":  # a scene whose file Plex lacks: it waits, each signal looks again
            fields = {"files": ["/data/later/waiting.mp4"], "title": "Waiting"}
            stash.jobs.run("scan", [11], fields).join()
        args = [sys.executable, __file__, "--child", kind, plex.url, stash.url, str(port)]
        engine = subprocess.Popen(
            [*args, str(count)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert engine.stdin is not None and engine.stdout is not None
        assert engine.stdout.readline().strip() == "READY"
        plex.reset_stats()
        stash.clear_requests()
        engine.stdin.write("GO\n")
        engine.stdin.flush()
        figures = json.loads(engine.stdout.readline())
        engine.wait(30)
        figures["plex_requests"] = plex.stats()["requests"]
        figures["stash_requests"] = len(stash.requests())
        server.shutdown()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=360_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=5, metavar=("KIND", "PLEX", "STASH", "PORT", "N"))
    args = parser.parse_args()
    if args.child:
        kind, plex_url, stash_url, port, n = args.child
        child(kind, plex_url, stash_url, int(port), int(n))
        return
    print(
        "| stream | messages | read in s | engine CPU s | peak RSS MiB "
        "| Plex requests | Stash requests |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, label in (("plex", "Plex notifications"), ("stash", "Stash jobsSubscribe")):
        runs = [run(kind, args.messages) for _ in range(args.runs)]
        med = {key: statistics.median(float(r[key]) for r in runs) for key in runs[0]}
        print(
            f"| {label} | {args.messages:,} | {med['seconds']:.1f} | {med['cpu']:.1f} "
            f"| {med['rss'] / 1024:.0f} | {med['plex_requests']:.0f} "
            f"| {med['stash_requests']:.0f} |",
            flush=True,
        )
    print(f"(medians of {args.runs} runs)")


if __name__ == "__main__":
    main()
