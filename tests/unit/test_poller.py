"""The keyset poll over Stash's `updated_at`, against a fake with Stash's order and text compare."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fakes import FakePlex, FakeStash
from fake_clock import FakeClock

from engine.config.file import PlexSyncConfig
from engine.errors import TransientError
from engine.poll.scenes import SETTLE_SECONDS, StashPoller
from engine.stash.scene import MalformedScene, PageQuery, ScenePage
from engine.store.jobs import JobStore, payload_hash
from engine.sync.engine import SyncEngine


@pytest.fixture
def store(tmp_path: Path, fake_clock: FakeClock) -> Iterator[JobStore]:
    opened = JobStore(tmp_path / "db.sqlite3", clock=fake_clock)
    yield opened
    opened.close()


def run_cycle(poller: StashPoller) -> int:
    """Read one whole cycle; returns the requests it took."""
    poller.start_cycle()
    for count in range(1, 10_000):
        if poller.read_page().finished:
            return count
    raise AssertionError("the cycle never finished")


def poll_until_quiet(poller: StashPoller, stash: FakeStash, clock: FakeClock) -> None:
    """Cycles with settle time between them, until the edits stop and one settle found nothing."""
    for _ in range(50):
        before = len(stash.requests)
        run_cycle(poller)
        clock.advance(SETTLE_SECONDS + 1)
        if stash.after_page is None and len(stash.requests) - before == 1:
            run_cycle(poller)  # the settle pass
            return
    raise AssertionError("the poll never went quiet")


def assert_every_version_read(store: JobStore, stash: FakeStash) -> None:
    seen = store.seen_versions(stash.scenes)
    for scene in stash.scenes.values():
        assert seen.get(scene.id) == (scene.updated_at, payload_hash(scene.payload())), scene.id
        job = store.get_job(scene.id)
        assert job is not None and job.payload == scene.payload(), scene.id


def edit_at_every_boundary(stash: FakeStash, *, pages: int, same_second: bool) -> None:
    """After each page, edit the first scene it returned (it moves, later rows shift back)."""
    left = [pages]

    def edit(ids: list[str]) -> None:
        if left[0] <= 0 or not ids:
            stash.after_page = None
            return
        left[0] -= 1
        scene = stash.scenes[ids[0]]
        fields = {"title": scene.title + " (edited)"}
        if same_second:
            fields["updated_at"] = scene.updated_at
            stash.clock -= 1
        stash.put(int(scene.id), **fields)

    stash.after_page = edit


def test_edits_at_every_page_boundary_lose_nothing(store: JobStore, fake_clock: FakeClock) -> None:
    stash = FakeStash()
    for n in range(1, 48):  # three scenes a second: page boundaries cut through seconds
        stash.put(n, updated_at=f"2025-01-01T00:00:{n // 3:02d}Z")
    stash.clock = 20
    edit_at_every_boundary(stash, pages=30, same_second=False)
    poller = StashPoller(stash, store, fake_clock, page_size=5)
    poll_until_quiet(poller, stash, fake_clock)
    assert_every_version_read(store, stash)


def test_many_scenes_in_one_second_are_read_by_id_and_lose_nothing(
    store: JobStore, fake_clock: FakeClock
) -> None:
    stash = FakeStash()
    for n in range(1, 24):
        stash.put(n, updated_at="2025-01-01T00:00:00Z", title=f"Scene {30 - n}")
    # Edits land in the same second too: a version is told apart by its content.
    edit_at_every_boundary(stash, pages=8, same_second=True)
    poller = StashPoller(stash, store, fake_clock, page_size=5)
    poll_until_quiet(poller, stash, fake_clock)
    assert_every_version_read(store, stash)
    assert any(q.group_after_id is not None for q in stash.requests)


def test_a_poll_reads_only_what_changed_since_the_last(
    store: JobStore, fake_clock: FakeClock
) -> None:
    stash = FakeStash()
    for n in range(1, 41):
        stash.put(n)
    poller = StashPoller(stash, store, fake_clock, page_size=10)
    assert run_cycle(poller) == 5  # 4 full pages, then the tail
    assert run_cycle(poller) == 1  # nothing new: one request
    for n in (3, 17, 29):
        stash.put(n, title=f"New {n}")
    added_before = len(stash.requests)
    run_cycle(poller)
    assert len(stash.requests) - added_before == 1
    assert stash.requests[-1].after is not None  # from the watermark, not from the start
    assert {store.get_job(str(n)).title for n in (3, 17, 29)} == {"New 3", "New 17", "New 29"}  # type: ignore[union-attr]


def test_the_settle_pass_reads_its_window_once(store: JobStore, fake_clock: FakeClock) -> None:
    stash = FakeStash()
    for n in range(1, 11):
        stash.put(n)
    poller = StashPoller(stash, store, fake_clock, page_size=50)
    run_cycle(poller)
    fake_clock.advance(SETTLE_SECONDS + 1)
    run_cycle(poller)
    settle = stash.requests[-1]
    assert settle.inclusive and settle.after is not None and settle.after < "2025-01-01T00:00:10Z"
    run_cycle(poller)
    assert stash.requests[-1].after == "2025-01-01T00:00:10Z"  # back to the watermark


def test_an_error_mid_poll_resumes_at_its_cursor(store: JobStore, fake_clock: FakeClock) -> None:
    stash = FakeStash()
    for n in range(1, 13):
        stash.put(n)
    poller = StashPoller(stash, store, fake_clock, page_size=4)
    poller.start_cycle()
    assert not poller.read_page().finished
    stash.fail_with = TransientError("Stash is busy", "database is locked")
    with pytest.raises(TransientError):
        poller.read_page()
    stash.fail_with = None
    # A restart in between: the cursor was saved with the page.
    poller = StashPoller(stash, store, fake_clock, page_size=4)
    assert poller.in_cycle
    while not poller.read_page().finished:
        pass
    resumed = stash.requests[2]
    assert resumed.after == "2025-01-01T00:00:04Z"
    assert all(store.get_job(str(n)) is not None for n in range(1, 13))


class MalformedStash(FakeStash):
    def scene_page(self, query: PageQuery) -> ScenePage:
        page = super().scene_page(query)
        broken = MalformedScene("2", "Two", self.scenes["2"].updated_at, "field 'title': bad")
        scenes = tuple(s for s in page.scenes if s.id != "2")
        return ScenePage(scenes, (broken,) if len(scenes) < page.rows else (), page.rows, page.keys)


def test_a_malformed_scene_is_dead_lettered_and_the_page_goes_on(
    store: JobStore, fake_clock: FakeClock
) -> None:
    stash = MalformedStash()
    for n in range(1, 5):
        stash.put(n)
    poller = StashPoller(stash, store, fake_clock)
    run_cycle(poller)
    assert [e.scene_id for e in store.dlq_list()] == ["2"]
    assert "field 'title'" in store.dlq_list()[0].message
    assert store.get_job("2") is None
    assert all(store.get_job(str(n)) is not None for n in (1, 3, 4))
    fake_clock.advance(SETTLE_SECONDS + 1)
    store.dlq_delete(None)
    run_cycle(poller)  # the settle pass re-reads it: the same version stays dismissed
    assert store.dlq_count() == 0


def test_a_malformed_scene_sent_back_from_the_dlq_is_never_written(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    plex = FakePlex(["/media/2.mp4"])
    stash = MalformedStash()
    stash.put(2)
    store = JobStore(tmp_path / "engine.sqlite3", clock=fake_clock)
    config = PlexSyncConfig(
        plex_url="http://plex:32400",
        plex_token="token",
        path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],
        sync_poster=False,
    )
    engine = SyncEngine(
        config=config,
        store=store,
        plex_factory=lambda c: plex,
        stash_factory=lambda c: stash,
        clock=fake_clock,
        idle_probes=False,
    )
    try:
        engine.tick()
        assert store.dlq_retry(None) == 1
        engine.tick()
        assert plex.edits == [] and "field 'title'" in store.dlq_list()[0].message
    finally:
        engine.close()
        store.close()


def test_edits_after_a_dst_fall_back_are_read_once_the_new_offset_shows(
    store: JobStore, fake_clock: FakeClock
) -> None:
    stash = FakeStash()
    for n in range(1, 6):  # Stash writes its local offset: summer time
        stash.put(n, updated_at=f"2024-10-27T02:5{n}:00+02:00")
    poller = StashPoller(stash, store, fake_clock, page_size=50)
    run_cycle(poller)
    # Clocks went back at 03:00: these are later instants, but "02:10" < "02:55" as text.
    stash.put(6, updated_at="2024-10-27T02:10:00+01:00", title="After the switch")
    stash.put(7, updated_at="2024-10-27T02:40:00+01:00", title="Later still")
    fake_clock.advance(SETTLE_SECONDS + 1)
    run_cycle(poller)
    run_cycle(poller)
    assert store.get_job("6") is None  # invisible to a text comparison, for now
    stash.put(8, updated_at="2024-10-27T03:05:00+01:00", title="After the hour")
    for _ in range(3):
        run_cycle(poller)
        fake_clock.advance(SETTLE_SECONDS + 1)
    assert_every_version_read(store, stash)
