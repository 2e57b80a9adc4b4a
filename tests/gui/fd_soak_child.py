"""Run by `test_fd_limit.py` in a subprocess with a low RLIMIT_NOFILE: many ticks, many reads.

Hosts the real `SyncEngine` (in-memory Plex and Stash) on the bridge's engine thread, as the tray
does, and runs a status window whose store reader refreshes after every tick; a second engine is
ticked on a plain thread, as `plexsync run` does. Prints one JSON line with the open fds after
warm-up and at the end; exits 1 when a tick or a read failed.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "unit")]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from engine_fakes import FakePlex, FakeStash  # noqa: E402
from PySide6.QtCore import QCoreApplication  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.config.file import PlexSyncConfig  # noqa: E402
from engine.store.jobs import JobStore  # noqa: E402
from engine.sync.engine import SyncEngine  # noqa: E402
from gui.bridge import EngineBridge  # noqa: E402
from gui.singleton_refs import pin_singletons  # noqa: E402
from gui.status_window import StatusWindow  # noqa: E402
from gui.store_reader import Section  # noqa: E402

SCENES = 10
WAIT_S = 5.0


def open_fds() -> int:
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


def make_engine(database: Path, listener: Any = None) -> tuple[SyncEngine, FakeStash]:
    plex = FakePlex([f"/media/{n}.mp4" for n in range(1, SCENES + 1)])
    stash = FakeStash()
    for n in range(1, SCENES + 1):
        stash.put(n)
    config = PlexSyncConfig(
        plex_url="http://plex:32400",
        plex_token="token",
        poll_interval=30,
        path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],  # type: ignore[list-item]
        sync_poster=False,
    )
    engine = SyncEngine(
        config=config,
        store=JobStore(database),
        plex_factory=lambda c: plex,
        stash_factory=lambda c: stash,
        **({} if listener is None else {"listener": listener}),
    )
    return engine, stash


class Counted:
    """The engine with a tick counter (the bridge only sees the HostedEngine protocol)."""

    def __init__(self, engine: SyncEngine) -> None:
        self._engine = engine
        self.ticks = 0
        self.errors: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def tick(self, budget: float = 0.5) -> float:
        try:
            return self._engine.tick(budget)
        except Exception as exc:
            self.errors.append(repr(exc))
            raise
        finally:
            self.ticks += 1


def wait_for(app: QCoreApplication, done: Any) -> bool:
    deadline = time.monotonic() + WAIT_S
    while not done():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.001)
    return True


def tray_ticks(app: QApplication, workdir: Path, ticks: int, warm_up: int) -> dict[str, Any]:
    """The tray's way: the bridge's engine thread, plus a status window reading the store."""
    bridge = EngineBridge()
    engine, stash = make_engine(workdir / "tray.sqlite3", bridge.listener)
    counted = Counted(engine)
    bridge.attach(counted)  # type: ignore[arg-type]
    window = StatusWindow(bridge, engine.store.path)
    window.show()
    reads: list[object] = []
    failures: list[str] = []
    window.reader.snapshot_ready.connect(reads.append)
    window.reader.read_failed.connect(failures.append)
    bridge.start()
    baseline = 0
    for n in range(ticks):
        if n == warm_up:
            baseline = open_fds()
        stash.put(n % SCENES + 1)  # replaces a scene: a new edit for the next poll
        before, read_before = counted.ticks, len(reads)
        bridge.sync_now()
        window.reader.request(Section.ALL)
        ticked = wait_for(app, lambda b=before, r=read_before: counted.ticks > b and len(reads) > r)
        if not ticked:
            failures.append(f"tick {n} or its read did not finish within {WAIT_S} s")
            break
    end = open_fds()
    window.shutdown()
    window.close()
    bridge.stop()
    engine.close()
    engine.store.close()
    return {
        "baseline": baseline,
        "end": end,
        "ticks": counted.ticks,
        "errors": counted.errors + failures,
    }


def cli_ticks(workdir: Path, ticks: int, warm_up: int) -> dict[str, Any]:
    """The CLI's way: `engine.tick()` on one plain thread."""
    engine, stash = make_engine(workdir / "cli.sqlite3")
    result: dict[str, Any] = {"errors": []}

    def work() -> None:
        for n in range(ticks):
            if n == warm_up:
                result["baseline"] = open_fds()
            stash.put(n % SCENES + 1)
            engine.sync_now()
            try:
                engine.tick()
            except Exception as exc:
                result["errors"].append(repr(exc))
        result["end"] = open_fds()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    engine.close()
    engine.store.close()
    return result


def main() -> int:
    limit, ticks, workdir = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    app = QApplication([])
    pin_singletons()
    warm_up = min(10, ticks // 4)
    report = {
        "tray": tray_ticks(app, workdir, ticks, warm_up),
        "cli": cli_ticks(workdir, ticks, warm_up),
    }
    print(json.dumps(report))
    return 1 if any(part["errors"] for part in report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
