"""One request from a client of the engine to a hostile server, in a process of its own so its
peak RSS is the client's: `python answer_child.py plex|stash URL` prints, as JSON, the RSS
before the request and the peak after it (KiB, from /proc/self/status), the seconds the
request took and the error it ended with (type, title, message), or null. `run_child` runs it
and returns that."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.config.file import PlexSyncConfig
from engine.errors import SyncError
from engine.plex.client import PlexClient
from engine.stash.client import StashClient


def run_child(kind: str, url: str) -> dict[str, object]:
    """This program run against `url`, bounded in time; what it printed."""
    done = subprocess.run(
        [sys.executable, __file__, kind, url],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def main(kind: str, url: str) -> None:
    error: list[str] | None = None
    if kind == "plex":
        plex = PlexClient(PlexSyncConfig(plex_url=url, plex_token="t" * 20, plex_read_timeout=5))
        plex.server()  # connected (plexapi's objects made) before the baseline
        request = plex.movie_sections
    else:
        stash = StashClient(PlexSyncConfig(stash_url=url, stash_api_key="k" * 20))
        request = stash.version  # type: ignore[assignment]
    before = status_kib("VmRSS")
    start = time.monotonic()
    try:
        request()
    except SyncError as exc:
        error = [type(exc).__name__, exc.title, exc.message]
    seconds = time.monotonic() - start
    peak = status_kib("VmHWM")
    print(json.dumps({"rss_kib": before, "peak_kib": peak, "seconds": seconds, "error": error}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
