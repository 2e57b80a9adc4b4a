"""Polling the Stash simulator as real Stash behaves: offset paging, edits between pages, busy
answers, and a Stash so busy that polling could crowd out the queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from sync_helpers import config_for, drive, engine_for, settle, simulators

from engine.sync.engine import SyncEngine
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration


def eligible(scene: dict[str, Any]) -> bool:
    """Scenes the engine queues: a file to match and metadata to send."""
    has_metadata = any(scene[k] for k in ("studio", "performers", "tags", "details", "date"))
    return bool(scene["files"]) and has_metadata


def test_edits_at_every_page_boundary_lose_nothing(tmp_path: Path, fake_clock: FakeClock) -> None:
    # Two full pages and more; Plex is down, so every job stays queued for inspection.
    with (
        PlexSimulator(token="t", movies=1) as plex,
        StashSimulator(api_key="stash-key-0123456789", scenes=1150, seed=4) as stash,
    ):
        plex.stop()
        stash.edit_between_pages(count=1, times=8)
        config = config_for(plex, stash, poll_interval=1, failure_threshold=1)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            drive(engine, fake_clock, 60)
        scenes = [stash.scene(k) for k in range(1, 1151)]
        assert sum(stash.store.is_edited(k) for k in range(1, 1151)) >= 3
        missing = []
        for scene in scenes:
            assert scene is not None
            job = store.get_job(scene["id"])
            if eligible(scene) and (job is None or job.payload["title"] != scene["title"]):
                missing.append(scene["id"])
        assert missing == []


def drive_like_a_host(engine: SyncEngine, clock: FakeClock, seconds: float) -> None:
    """Tick with the hosts' default budget, sleeping the delays the engine asks for."""
    end = clock.now() + seconds
    while clock.now() < end:
        clock.advance(max(engine.tick(), 0.05))


def test_a_busy_stash_does_not_starve_the_queue(tmp_path: Path, fake_clock: FakeClock) -> None:
    with simulators(n=700) as (plex, stash):
        stash.churn(700)  # every scene changed within the last hour
        # Each page of 500 scenes takes Stash 0.6 s: reading them all outlasts a poll interval.
        stash.add_page_hook(lambda ids: fake_clock.advance(0.6))
        config = config_for(plex, stash, poll_interval=1, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            drive_like_a_host(engine, fake_clock, 10)
            assert store.counts().pending < 100  # jobs were processed while Stash was busy
            stash.clear_requests()
            drive_like_a_host(engine, fake_clock, 30)
            pages = [r for r in stash.requests() if "findScenes" in (r["query"] or "")]
            # Incremental: about one request a poll, not every page again.
            assert len(pages) <= 35, len(pages)


def test_database_is_locked_is_transient_and_spares_plexs_breaker(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with simulators(n=6) as (plex, stash):
        stash.add_graphql_error(match="findScenes", message="database is locked", count=2)
        config = config_for(plex, stash, poll_interval=1, sync_poster=False, failure_threshold=1)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            engine.tick()
            status = engine.status()
            assert status.last_error is not None and "Stash" in status.last_error
            snapshot = engine.breaker.snapshot()
            assert snapshot.state.value == "closed" and snapshot.failure_count == 0
            drive(engine, fake_clock, 10)
            assert store.dlq_count() == 0 and engine.status().last_error is None
            synced = [k for k in range(1, 7) if store.pushed(str(k)) is not None]
            expected = [k for k in range(1, 7) if eligible(stash.scene(k) or {})]
            assert synced == expected


def test_a_deleted_dead_letter_stays_deleted_until_a_newer_edit(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with simulators(n=5) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False)
        scene_id = next(k for k in range(1, 6) if eligible(stash.scene(k) or {}))
        name = stash.scene(scene_id)["files"][0].rsplit("/", 1)[1]  # type: ignore[index]
        # Two same-name items under the mapped prefix, none at the mapped path: ambiguous.
        plex.add_movie(file=f"/media/copy/{name}", title="Copy")
        stash.update_scene(scene_id, files=[f"/data/moved/{name}"], details="Edited a minute ago")
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)
            assert [e.scene_id for e in store.dlq_list()] == [str(scene_id)]
            store.dlq_delete(None)
        fake_clock.advance(60)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):  # a restart
            drive(engine, fake_clock, 60)
            assert store.dlq_count() == 0 and store.get_job(str(scene_id)) is None
            stash.update_scene(scene_id, details="A newer edit")
            drive(engine, fake_clock, 30)
            assert [e.scene_id for e in store.dlq_list()] == [str(scene_id)]
