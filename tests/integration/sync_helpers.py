"""Helpers for engine-against-simulator tests: a real engine, real SQLite, a fake clock."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from fake_clock import FakeClock

from engine.config.file import PlexSyncConfig
from engine.plex.client import PlexClient
from engine.stash.client import StashClient
from engine.store.checks import CheckSummary
from engine.store.jobs import JobStore
from engine.sync.engine import SyncEngine
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

TOKEN = "plex-token-0123456789"
API_KEY = "stash-key-0123456789"


def config_for(plex: PlexSimulator, stash: StashSimulator, **changes: Any) -> PlexSyncConfig:
    settings: dict[str, Any] = {
        "plex_url": plex.url,
        "plex_token": TOKEN,
        "stash_url": stash.url,
        "stash_api_key": API_KEY,
        "poll_interval": 5,
        "recovery_timeout": 30,
        "failure_threshold": 3,
        "plex_connect_timeout": 2,
        "plex_read_timeout": 5,
        "path_mappings": [{"stash_prefix": "/data", "plex_prefix": "/media"}],
    }
    settings.update(changes)
    return PlexSyncConfig(**settings)


@contextmanager
def simulators(
    n: int = 20, seed: int = 3, *, clock: FakeClock | None = None
) -> Iterator[tuple[PlexSimulator, StashSimulator]]:
    """Both simulators; with `clock`, on the test's fake time line (Plex's `updatedAt` and
    Stash's stamps then compare with the engine's own times, as on one machine)."""
    now: dict[str, Any] = {} if clock is None else {"now": clock.now}
    with (
        PlexSimulator(token=TOKEN, movies=n, seed=seed, **now) as plex,
        StashSimulator(api_key=API_KEY, scenes=n, seed=seed, **now) as stash,
    ):
        yield plex, stash


@contextmanager
def engine_for(
    tmp_path: Path, config: PlexSyncConfig, clock: FakeClock, **kw: Any
) -> Iterator[tuple[SyncEngine, JobStore]]:
    store = JobStore(tmp_path / "plexsync.sqlite3", clock=clock)
    # Seeded jitter: a retry never lands by chance inside a test's short window.
    kw.setdefault("rng", random.Random(0))
    engine = SyncEngine(
        config=config,
        store=store,
        plex_factory=PlexClient,
        stash_factory=StashClient,
        clock=clock,
        **kw,
    )
    try:
        yield engine, store
    finally:
        engine.close()
        store.close()


def drive(engine: SyncEngine, clock: FakeClock, seconds: float, *, max_ticks: int = 5000) -> None:
    """Tick like a host, letting fake time pass by the delays the engine asks for."""
    end = clock.now() + seconds
    for _ in range(max_ticks):
        if clock.now() >= end:
            return
        delay = engine.tick(budget=5.0)
        clock.advance(min(max(delay, 0.05), end - clock.now() + 0.001))
    raise AssertionError("the engine did not settle")


def settle(engine: SyncEngine, clock: FakeClock, *, limit: float = 3600) -> None:
    """Tick until nothing is ready or waiting (or `limit` fake seconds pass)."""
    end = clock.now() + limit
    while clock.now() < end:
        delay = engine.tick(budget=5.0)
        status = engine.status()
        if status.pending == 0 and status.in_progress == 0 and delay > 0:
            return
        clock.advance(max(delay, 0.05))


def expected_item(scene: dict[str, Any]) -> dict[str, Any]:
    """What Plex should show for a Stash scene after a sync (default toggles)."""
    studio = scene.get("studio") or ""
    return {
        "title": scene["title"],
        "studio": studio or None,
        "summary": scene.get("details") or None,
        "originallyAvailableAt": scene.get("date") or None,
        "actors": list(scene.get("performers") or []),
        "genres": list(scene.get("tags") or []),
        "collections": [studio] if studio else [],
    }


def item_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": item["title"],
        "studio": item["studio"] or None,
        "summary": item["summary"] or None,
        "originallyAvailableAt": item["originallyAvailableAt"] or None,
        "actors": item["actors"],
        "genres": item["genres"],
        "collections": item["collections"],
    }


def plex_item_for(plex: PlexSimulator, scene: dict[str, Any]) -> dict[str, Any] | None:
    wanted = {path.replace("/data", "/media", 1) for path in scene.get("files") or []}
    for item in plex.items():
        if wanted & set(item["files"]):
            return item
    return None


def run_check(engine: SyncEngine, clock: FakeClock, *, max_ticks: int = 2000) -> CheckSummary:
    """Ask for a check and tick until it has finished."""
    engine.check_now()
    engine.tick(budget=5.0)
    for _ in range(max_ticks):
        if engine.status().check is None:
            break
        engine.tick(budget=5.0)
        clock.advance(0.05)
    summary = engine.checker.checks.last_summary()
    assert summary is not None and engine.status().check is None
    return summary


def user_edit(plex: PlexSimulator, rating_key: int, **params: str) -> None:
    """What Plex Web sends when a user edits an item (the same PUT plexapi sends)."""
    query = {"type": "1", "id": str(rating_key), **params}
    response = requests.put(
        f"{plex.url}/library/sections/1/all",
        params=query,
        headers={"X-Plex-Token": TOKEN},
        timeout=5,
    )
    assert response.status_code == 200
