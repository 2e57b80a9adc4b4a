"""The bridge hosting the real engine against the simulators: quit with a job in flight."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from engine.breaker import CircuitState
from engine.config.file import PlexSyncConfig
from engine.paths import AppPaths
from engine.runtime.compose import EngineRuntime
from gui.bridge import EngineBridge
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

TOKEN = "host-test-token-0123"
API_KEY = "host-test-key-4567"
SCENES = 8
EDIT = r"^PUT /library/sections/\d+/all"


@pytest.fixture
def sims() -> Iterator[tuple[PlexSimulator, StashSimulator]]:
    with (
        PlexSimulator(token=TOKEN, movies=SCENES, seed=5) as plex,
        StashSimulator(api_key=API_KEY, scenes=SCENES, seed=5) as stash,
    ):
        yield plex, stash


def config_for(plex: PlexSimulator, stash: StashSimulator) -> PlexSyncConfig:
    return PlexSyncConfig(
        plex_url=plex.url,
        plex_token=TOKEN,
        stash_url=stash.url,
        stash_api_key=API_KEY,
        poll_interval=1,
        failure_threshold=2,
        recovery_timeout=2,
        plex_connect_timeout=2,
        plex_read_timeout=5,
        path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],  # type: ignore[list-item]
    )


def count(database: Path, sql: str) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
        return int(db.execute(sql).fetchone()[0])


def host(paths: AppPaths, config: PlexSyncConfig) -> tuple[EngineBridge, EngineRuntime]:
    bridge = EngineBridge()
    runtime = EngineRuntime.open(paths, config, listener=bridge.listener, serve_control=False)
    bridge.attach(runtime.engine)
    bridge.start()
    return bridge, runtime


def test_quit_with_a_job_in_flight_loses_nothing(
    qtbot: QtBot, tmp_path: Path, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    paths = AppPaths.in_dir(tmp_path / "app").ensure()
    config = config_for(plex, stash)
    plex.add_fault(match=EDIT, status=None, delay=0.4)  # every edit takes a while
    bridge, runtime = host(paths, config)
    try:
        qtbot.waitUntil(
            lambda: (
                count(paths.database, "SELECT COUNT(*) FROM jobs WHERE status='in_progress'") > 0
            ),
            timeout=15_000,
        )
        started = time.monotonic()
        assert bridge.stop(timeout=2.0)
        assert time.monotonic() - started < 2.0
    finally:
        bridge.stop()
        runtime.close()
    queued = count(paths.database, "SELECT COUNT(*) FROM jobs")
    synced = count(paths.database, "SELECT COUNT(*) FROM pushed")
    assert count(paths.database, "SELECT COUNT(*) FROM dlq") == 0
    assert queued > 0, "the test must stop the engine before the queue drained"
    assert queued + synced == SCENES

    # The next start finishes the work: every scene reaches Plex exactly once.
    plex.clear_faults()
    bridge, runtime = host(paths, config)
    try:
        qtbot.waitUntil(
            lambda: count(paths.database, "SELECT COUNT(*) FROM pushed") == SCENES,
            timeout=20_000,
        )
        assert count(paths.database, "SELECT COUNT(*) FROM jobs") == 0
    finally:
        assert bridge.stop()
        runtime.close()


def test_breaker_transitions_reach_the_gui_thread(
    qtbot: QtBot, tmp_path: Path, sims: tuple[PlexSimulator, StashSimulator]
) -> None:
    plex, stash = sims
    paths = AppPaths.in_dir(tmp_path / "app").ensure()
    bridge, runtime = host(paths, config_for(plex, stash))
    transitions: list[tuple[str, str]] = []
    bridge.breaker_changed.connect(lambda old, new: transitions.append((old, new)))
    try:
        qtbot.waitUntil(
            lambda: count(paths.database, "SELECT COUNT(*) FROM pushed") == SCENES,
            timeout=20_000,
        )
        plex.stop()
        stash.churn(3)
        qtbot.waitUntil(lambda: ("closed", "open") in transitions, timeout=15_000)
        plex.start()
        bridge.retry_now()
        qtbot.waitUntil(
            lambda: (
                bridge.status is not None and bridge.status.breaker_state is CircuitState.CLOSED
            ),
            timeout=15_000,
        )
    finally:
        assert bridge.stop()
        runtime.close()
