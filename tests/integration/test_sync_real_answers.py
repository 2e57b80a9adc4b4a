"""The engine against answers real servers give: a token-free /identity, a proxy's login page
with status 200, Stash's placeholder screenshot and a Stash outage during poster downloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_helpers import config_for, drive, engine_for, plex_item_for, settle, simulators

from engine.breaker import CircuitState

pytestmark = pytest.mark.integration

PUT = "PUT /library/sections/{id}/all"


def test_a_token_revoked_while_idle_shows_within_two_poll_intervals(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with simulators(n=4) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            assert engine.status().auth_error is None
            plex.token = "revoked"  # the engine is idle: only its probe talks to Plex
            drive(engine, fake_clock, 2 * config.poll_interval)
            assert engine.status().auth_error == "Plex rejected the token"


def test_a_login_page_with_status_200_is_not_a_successful_edit(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        simulators(n=5) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ),
    ):
        settle(engine, fake_clock)
        plex.login_page = True  # a reverse proxy now answers everything with its sign-in page
        edited = [k for k in range(1, 6) if (stash.scene(k) or {}).get("files")][:3]
        for k in edited:
            stash.update_scene(k, title=f"Edited {k}")
        drive(engine, fake_clock, 120)
        status = engine.status()
        assert status.pending == len(edited) and store.dlq_count() == 0  # nothing lost
        assert all(job.attempts == 0 for job in store.list_jobs())
        assert engine.breaker.state is not CircuitState.CLOSED  # visible as an outage
        assert "not Plex" in (status.last_error or "")
        plex.login_page = False
        settle(engine, fake_clock)
        for k in edited:
            item = plex_item_for(plex, stash.scene(k) or {})
            assert item is not None and item["title"] == f"Edited {k}"


def test_stash_placeholder_is_never_the_poster_and_plex_keeps_its_own(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        simulators(n=4) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash), fake_clock) as (engine, store),
    ):
        scene_ids = [k for k in range(1, 5) if (stash.scene(k) or {}).get("files")]
        no_cover, with_cover = scene_ids[0], scene_ids[1]
        stash.clear_cover(no_cover)
        own = plex_item_for(plex, stash.scene(no_cover) or {})
        assert own is not None
        with plex.library.lock:
            plex.library.mutable(own["ratingKey"]).poster_sha256 = "plex-own-poster"
        settle(engine, fake_clock)
        assert store.dlq_count() == 0 and store.counts().pending == 0
        kept = plex.item(own["ratingKey"])
        assert kept is not None and kept["poster_sha256"] == "plex-own-poster"
        covered = plex_item_for(plex, stash.scene(with_cover) or {})
        assert covered is not None and covered["poster_sha256"] not in (None, "plex-own-poster")


def test_stash_502_on_screenshots_spends_no_attempts_and_never_rewrites_metadata(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        simulators(n=10) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash), fake_clock) as (engine, store),
    ):
        stash.add_fault(match=r"^GET /scene/", status=502)
        drive(engine, fake_clock, 90)  # a 90 s Stash outage of its image route
        synced = [k for k in range(1, 11) if (stash.scene(k) or {}).get("files")]
        assert store.dlq_count() == 0
        assert all(job.attempts == 0 for job in store.list_jobs())
        assert plex.stats()["by_route"][PUT] == len(synced)  # metadata reached Plex once each
        for k in synced:
            item = plex_item_for(plex, stash.scene(k) or {})
            assert item is not None and item["poster_sha256"] is None
        stash.clear_faults()
        settle(engine, fake_clock)
        assert store.counts().pending == 0 and store.dlq_count() == 0
        assert plex.stats()["by_route"][PUT] == len(synced)  # the posters went on their own
        for k in synced:
            item = plex_item_for(plex, stash.scene(k) or {})
            assert item is not None and item["poster_sha256"] is not None
