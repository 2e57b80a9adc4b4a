""" "Check library" end to end: a real engine, real SQLite and both simulators (issue 13, drift).

The simulators run on the test's fake clock, so Plex's `updatedAt` and the engine's notion of
"when we wrote" are on the same time line, as they are on one machine in real life.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from sync_helpers import (
    API_KEY,
    TOKEN,
    config_for,
    engine_for,
    plex_item_for,
    run_check,
    settle,
    user_edit,
)

from engine.store.checks import CheckKind, Finding
from engine.store.jobs import Job
from engine.sync.engine import SyncEngine
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration


@contextmanager
def sims(clock: FakeClock, n: int = 30) -> Iterator[tuple[PlexSimulator, StashSimulator]]:
    with (
        PlexSimulator(token=TOKEN, movies=n, seed=3, now=clock.now) as plex,
        StashSimulator(api_key=API_KEY, scenes=n, seed=3, now=clock.now) as stash,
    ):
        yield plex, stash


def findings(engine: SyncEngine) -> list[Finding]:
    return engine.checker.checks.findings()


def synced_scene(plex: PlexSimulator, stash: StashSimulator, scene_id: int) -> tuple[dict, int]:
    scene = stash.scene(scene_id)
    assert scene is not None and scene["files"]
    item = plex_item_for(plex, scene)
    assert item is not None
    return scene, int(item["ratingKey"])


def writes(plex: PlexSimulator) -> int:
    methods: dict[str, int] = plex.stats()["by_method"]
    return sum(count for method, count in methods.items() if method != "GET")


def test_check_after_a_sync_finds_nothing_writes_nothing_and_reads_only_listings(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        sims(fake_clock, n=40) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ),
    ):
        settle(engine, fake_clock)
        fake_clock.advance(5)
        plex.reset_stats()
        summary = run_check(engine, fake_clock)
        assert findings(engine) == []
        assert summary.scenes > 30
        assert writes(plex) == 0
        # The section list and one listing page; every tag list our writes set is proved by
        # Plex's updatedAt, so not one full-item read.
        assert summary.full_reads == 0
        routes = plex.stats()["by_route"]
        assert routes.get("GET /library/sections/{id}/all") == 1  # one page per section
        assert "GET /library/metadata/{ids}" not in routes


def test_user_edits_in_plex_are_drifted_and_fix_puts_stash_back(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        sims(fake_clock) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ),
    ):
        settle(engine, fake_clock)
        scene, title_rk = synced_scene(plex, stash, 2)
        tagged, genre_rk = synced_scene(plex, stash, 5)
        fake_clock.advance(60)
        user_edit(plex, title_rk, **{"title.value": "My own title"})
        user_edit(plex, genre_rk, **{"genre[0].tag.tag": "Mine"})  # replaces the whole list
        plex.reset_stats()
        summary = run_check(engine, fake_clock)
        drifted = {f.scene_id: f for f in findings(engine)}
        assert set(drifted) == {"2", "5"}
        assert drifted["2"].kind is CheckKind.DRIFTED and drifted["2"].fields == ("title",)
        assert drifted["5"].fields == ("genre",) and tagged["tags"]
        assert summary.full_reads <= 2  # only items Plex changed since our write
        assert writes(plex) == 0

        engine.check_fix(None)
        settle(engine, fake_clock)
        assert plex.item(title_rk)["title"] == scene["title"]  # type: ignore[index]
        genres = plex.item(genre_rk)["genres"]  # type: ignore[index]
        assert set(tagged["tags"]) <= set(genres) and "Mine" in genres  # the user's tag stays
        fake_clock.advance(5)
        run_check(engine, fake_clock)
        assert findings(engine) == []
        assert store.dlq_count() == 0


def test_preserved_plex_edits_are_reported_not_overwritten_unless_fixed(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with sims(fake_clock) as (plex, stash):
        config = config_for(plex, stash, sync_poster=False, preserve_plex_edits=True)
        with engine_for(tmp_path, config, fake_clock) as (engine, _store):
            settle(engine, fake_clock)
            scene, rk = synced_scene(plex, stash, 3)
            fake_clock.advance(60)
            user_edit(plex, rk, **{"summary.value": "Written by me in Plex"})
            run_check(engine, fake_clock)
            mine = next(f for f in findings(engine) if f.scene_id == "3")
            assert "summary" in mine.kept and "summary" not in mine.fields

            engine.sync_now()
            settle(engine, fake_clock)
            assert plex.item(rk)["summary"] == "Written by me in Plex"  # type: ignore[index]

            engine.check_fix(["3"])
            settle(engine, fake_clock)
            item = plex.item(rk)
            assert item is not None
            assert item["summary"] == (scene["details"] or None)
            assert item["title"] == scene["title"]


def test_item_re_added_with_a_new_rating_key_is_orphan_and_never_synced(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        sims(fake_clock) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ),
    ):
        settle(engine, fake_clock)
        scene, old_rk = synced_scene(plex, stash, 8)
        file = plex.item(old_rk)["files"][0]  # type: ignore[index]
        plex.remove_movie(old_rk)
        new_rk = plex.add_movie(file)
        fake_clock.advance(5)
        run_check(engine, fake_clock)
        kinds = {(f.kind, f.rating_key) for f in findings(engine) if f.scene_id == "8"}
        assert kinds == {(CheckKind.ORPHAN, str(old_rk)), (CheckKind.NEVER_SYNCED, str(new_rk))}

        engine.check_fix(["8"])
        settle(engine, fake_clock)
        assert plex.item(new_rk)["title"] == scene["title"]  # type: ignore[index]
        fake_clock.advance(5)
        run_check(engine, fake_clock)
        assert findings(engine) == []


def _dead_letter(store: Any, scene: dict[str, Any], error_class: str) -> None:
    payload = {k: scene[k] for k in ("id", "title", "details", "date", "studio", "files")}
    payload.update(performers=scene["performers"], tags=scene["tags"], screenshot="")
    store.enqueue(scene["id"], payload, title=scene["title"])
    job: Job = store.dequeue(1)[0]
    store.dead_letter(job, error_class=error_class, message="earlier failure", attempts=3)


def test_file_not_yet_in_plex_then_its_dlq_entry_is_resolved(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        PlexSimulator(token=TOKEN, movies=30, seed=3, now=fake_clock.now) as plex,
        StashSimulator(api_key=API_KEY, scenes=36, seed=3, now=fake_clock.now) as stash,
    ):
        config = config_for(plex, stash, sync_poster=False, skip_not_found=True)
        with engine_for(tmp_path, config, fake_clock) as (engine, store):
            settle(engine, fake_clock)  # scenes 31-36 have files Plex does not have: skipped
            late = next(s for k in range(31, 37) if (s := stash.scene(k)) and s["files"])
            _dead_letter(store, late, "not_found")
            token_scene = stash.scene(7)
            assert token_scene is not None
            _dead_letter(store, token_scene, "auth")
            summary = run_check(engine, fake_clock)
            by_scene = {(f.scene_id, f.kind) for f in findings(engine)}
            assert (late["id"], CheckKind.NOT_IN_PLEX) in by_scene
            assert (late["id"], CheckKind.DLQ_RESOLVED) not in by_scene
            assert ("7", CheckKind.DLQ_RESOLVED) in by_scene  # the token works again
            assert summary.counts[CheckKind.NOT_IN_PLEX.value] >= 1

            new_rk = plex.add_movie(late["files"][0].replace("/data", "/media", 1))
            fake_clock.advance(5)
            run_check(engine, fake_clock)
            kinds = {f.kind for f in findings(engine) if f.scene_id == late["id"]}
            assert kinds == {CheckKind.DLQ_RESOLVED, CheckKind.NEVER_SYNCED}

            engine.check_fix([late["id"], "7"])
            settle(engine, fake_clock)
            assert plex.item(new_rk)["title"] == late["title"]  # type: ignore[index]
            assert store.dlq_count() == 0


def test_jobs_keep_flowing_while_a_check_runs(tmp_path: Path, fake_clock: FakeClock) -> None:
    with (
        sims(fake_clock, n=2500) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ),
    ):
        settle(engine, fake_clock)
        engine.check_now()
        engine.tick(budget=5.0)
        assert engine.status().check is not None  # one slice, not the whole check
        stash.update_scene(9, title="Renamed mid-check")
        engine.sync_now()
        engine.tick(budget=5.0)
        pushed = store.pushed("9")
        assert pushed is not None and pushed.state["title"] == "Renamed mid-check"
        assert engine.status().check is not None  # the check is still going
        run_check(engine, fake_clock)
        assert findings(engine) == []


def test_scheduled_check_runs_a_week_after_the_first_start_and_not_before(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        sims(fake_clock) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            _store,
        ),
    ):
        settle(engine, fake_clock)
        fake_clock.advance(6 * 86400)
        for _ in range(20):
            engine.tick(budget=5.0)
        assert engine.checker.checks.last_summary() is None
        fake_clock.advance(86400)
        for _ in range(50):
            engine.tick(budget=5.0)
        summary = engine.checker.checks.last_summary()
        assert summary is not None and summary.scenes > 20
