"""SQLite failing under the engine (disk full, held lock, read-only): wait, lose nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from engine_fakes import FakePlex, FakeStash
from fake_clock import FakeClock

from engine.config.file import PlexSyncConfig
from engine.store.jobs import JobStore
from engine.sync.engine import SyncEngine
from engine.sync.failures import STORAGE_RETRY

SCENES = 3


@contextmanager
def engine_with(
    tmp_path: Path, clock: FakeClock, **store_options: Any
) -> Iterator[tuple[SyncEngine, FakePlex, JobStore]]:
    plex = FakePlex([f"/media/{n}.mp4" for n in range(1, SCENES + 1)])
    stash = FakeStash()
    for n in range(1, SCENES + 1):
        stash.put(n, details="long text " * 400)  # rows that need new pages in the database
    store = JobStore(tmp_path / "db.sqlite3", clock=clock, **store_options)
    config = PlexSyncConfig(
        plex_url="http://plex:32400",
        plex_token="token",
        poll_interval=10,
        path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],
        sync_poster=False,
    )
    engine = SyncEngine(
        config=config,
        store=store,
        plex_factory=lambda c: plex,
        stash_factory=lambda c: stash,
        clock=clock,
    )
    try:
        yield engine, plex, store
    finally:
        store.close()


def settle(engine: SyncEngine, clock: FakeClock, ticks: int = 20) -> None:
    for _ in range(ticks):
        clock.advance(engine.tick())


def assert_all_synced(engine: SyncEngine, plex: FakePlex, store: JobStore) -> None:
    counts = store.counts()
    assert (counts.pending, counts.in_progress, counts.dlq) == (0, 0, 0)
    assert all(store.pushed(str(n)) is not None for n in range(1, SCENES + 1))
    assert {key for key, _ in plex.edits} == {str(1000 + n) for n in range(SCENES)}
    assert engine.status().engine_error is None


def test_a_real_full_disk_pauses_syncing_until_there_is_room(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with engine_with(tmp_path, fake_clock) as (engine, plex, store):
        db = store._db()  # the engine runs on this thread, so this is its connection
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count={pages}")  # SQLite's own SQLITE_FULL
        delay = engine.tick()
        assert delay == STORAGE_RETRY
        assert engine.status().engine_error == "The disk holding the database is full"
        assert not engine.stopping and plex.edits == []
        db.execute("PRAGMA max_page_count=1073741823")  # room again
        settle(engine, fake_clock)
        assert_all_synced(engine, plex, store)


def test_a_full_disk_after_the_plex_write_loses_nothing(
    tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine_with(tmp_path, fake_clock) as (engine, plex, store):
        real = store.complete_pushed
        full = [True]

        def complete_pushed(*args: Any, **kwargs: Any) -> bool:
            if full[0]:
                raise sqlite3.OperationalError("database or disk is full")
            return real(*args, **kwargs)

        monkeypatch.setattr(store, "complete_pushed", complete_pushed)
        settle(engine, fake_clock, ticks=3)
        status = engine.status()
        assert status.engine_error == "The disk holding the database is full"
        assert status.dlq == 0 and store.dlq_count() == 0  # the job is not at fault
        assert store.counts().pending + store.counts().in_progress == SCENES
        full[0] = False
        settle(engine, fake_clock)
        assert_all_synced(engine, plex, store)


def test_a_lock_held_by_another_program_is_waited_out(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with engine_with(tmp_path, fake_clock, busy_timeout=0.05) as (engine, plex, store):
        other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # held far longer than the busy timeout
            assert engine.tick() == STORAGE_RETRY
            status = engine.status()
            assert status.engine_error == "Another program holds a lock on the database"
            other.execute("COMMIT")
        finally:
            other.close()
        settle(engine, fake_clock)
        assert_all_synced(engine, plex, store)


def test_a_read_only_database_is_shown_and_recovered_from(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    # Root ignores file modes, so a chmod'ed dir proves nothing here; query_only makes SQLite
    # refuse every write exactly as it does for a read-only file.
    with engine_with(tmp_path, fake_clock) as (engine, plex, store):
        settle(engine, fake_clock, ticks=1)
        store._db().execute("PRAGMA query_only=ON")
        fake_clock.advance(3600)
        engine.sync_now()
        engine.tick()
        assert engine.status().engine_error == "The data folder is read-only"
        store._db().execute("PRAGMA query_only=OFF")
        settle(engine, fake_clock)
        assert_all_synced(engine, plex, store)


def test_a_failed_write_leaves_no_transaction_open(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    try:
        db = store._db()
        db.execute(f"PRAGMA max_page_count={db.execute('PRAGMA page_count').fetchone()[0]}")
        with pytest.raises(sqlite3.OperationalError, match="full"):
            store.set_value("big", "x" * 100_000)
        assert not db.in_transaction
        db.execute("PRAGMA max_page_count=1073741823")
        store.set_value("big", "x" * 100_000)
        assert store.get_value("big") == "x" * 100_000
    finally:
        store.close()
