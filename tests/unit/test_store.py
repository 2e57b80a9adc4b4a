from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from fake_clock import FakeClock

from engine.plex.model import PlexItem
from engine.store.jobs import DAY, JobStore, Pushed, payload_hash


@pytest.fixture
def store(tmp_path: Path, fake_clock: FakeClock) -> JobStore:
    s = JobStore(tmp_path / "db.sqlite3", clock=fake_clock)
    yield s  # type: ignore[misc]
    s.close()


def scene(n: int, title: str = "T") -> dict[str, object]:
    return {"id": str(n), "title": f"{title}{n}", "files": [f"/d/{n}.mp4"]}


def test_newer_change_replaces_the_queued_payload(store: JobStore) -> None:
    assert store.enqueue("1", scene(1, "old"))
    assert store.enqueue("1", scene(1, "new"))
    assert not store.enqueue("1", scene(1, "new"))  # same payload: nothing changed
    jobs = store.dequeue(10)
    assert [j.payload["title"] for j in jobs] == ["new1"]
    assert store.counts().pending == 0 and store.counts().in_progress == 1


def test_dequeue_is_oldest_first_and_honours_not_before(
    store: JobStore, fake_clock: FakeClock
) -> None:
    for n in (1, 2, 3):
        store.enqueue(str(n), scene(n))
    first = store.dequeue(1)[0]
    store.release(first, not_before=fake_clock.now() + 60, attempts=1, error="503")
    assert [j.scene_id for j in store.dequeue(10)] == ["2", "3"]
    assert store.dequeue(10) == []  # the waiting job neither blocks nor comes back early
    assert store.next_ready_at() == fake_clock.now() + 60
    fake_clock.advance(60)
    again = store.dequeue(10)
    assert [j.scene_id for j in again] == ["1"] and again[0].attempts == 1


def test_complete_removes_finished_jobs(store: JobStore) -> None:
    store.enqueue("1", scene(1))
    job = store.dequeue()[0]
    assert store.complete(job)
    assert store.counts().pending == store.counts().in_progress == 0


def test_change_arriving_during_processing_is_not_lost(store: JobStore) -> None:
    store.enqueue("1", scene(1, "a"))
    job = store.dequeue()[0]
    store.enqueue("1", scene(1, "b"))
    assert not store.complete(job)  # the newer payload stays queued
    assert store.dequeue()[0].payload["title"] == "b1"


def test_in_progress_job_is_pending_again_after_a_crash(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    path = tmp_path / "db.sqlite3"
    store = JobStore(path, clock=fake_clock)
    store.enqueue("1", scene(1))
    store.enqueue("2", scene(2))
    claimed = store.dequeue(1)
    assert claimed[0].scene_id == "1"
    # the process dies here: no complete(), no close()
    reopened = JobStore(path, clock=fake_clock)
    assert reopened.counts().in_progress == 0
    assert sorted(j.scene_id for j in reopened.dequeue(10)) == ["1", "2"]
    reopened.close()
    store.close()


def test_dead_letter_list_get_retry_delete(store: JobStore, fake_clock: FakeClock) -> None:
    for n in (1, 2, 3):
        store.enqueue(str(n), scene(n))
    jobs = store.dequeue(10)
    ids = [
        store.dead_letter(job, error_class="permanent", message=f"bad {job.scene_id}", attempts=1)
        for job in jobs
    ]
    assert store.dlq_count() == 3 and store.counts().pending == 0
    entry = store.dlq_get(ids[0])
    assert entry is not None
    assert (entry.scene_id, entry.message, entry.payload["title"]) == ("1", "bad 1", "T1")
    assert [e.id for e in store.dlq_list(limit=2)] == [ids[2], ids[1]]
    assert [e.id for e in store.dlq_list(limit=2, offset=2)] == [ids[0]]
    assert store.dlq_retry([ids[0]]) == 1
    assert store.dlq_get(ids[0]) is None
    back = store.dequeue(10)
    assert [(j.scene_id, j.attempts) for j in back] == [("1", 0)]
    assert store.dlq_delete([ids[1]]) == 1
    assert store.dlq_retry(None) == 1
    assert store.dlq_count() == 0


def test_dead_letter_is_one_row_per_scene(store: JobStore) -> None:
    for attempt in range(2):
        store.enqueue("1", scene(1, f"v{attempt}"))
        job = store.dequeue()[0]
        store.dead_letter(job, error_class="permanent", message=f"m{attempt}", attempts=1)
    assert store.dlq_count() == 1
    assert store.dlq_list()[0].message == "m1"


def test_retry_does_not_overwrite_a_newer_queued_change(store: JobStore) -> None:
    store.enqueue("1", scene(1, "old"))
    entry = store.dead_letter(store.dequeue()[0], error_class="x", message="m", attempts=1)
    store.enqueue("1", scene(1, "new"))
    store.dlq_retry([entry])
    assert store.dequeue()[0].payload["title"] == "new1"


def test_purge_by_age(store: JobStore, fake_clock: FakeClock) -> None:
    store.enqueue("old", scene(1))
    store.dead_letter(store.dequeue()[0], error_class="x", message="m", attempts=1)
    fake_clock.advance(10 * DAY)
    store.enqueue("new", scene(2))
    store.dead_letter(store.dequeue()[0], error_class="x", message="m", attempts=1)
    fake_clock.advance(25 * DAY)
    assert store.dlq_purge(30) == 1
    assert [e.scene_id for e in store.dlq_list()] == ["new"]


def test_pushed_state_and_statistics(store: JobStore, fake_clock: FakeClock) -> None:
    store.enqueue("1", scene(1))
    job = store.dequeue()[0]
    record = Pushed("1", payload_hash(scene(1)), {"title": "T1"}, "http://s/1", "abc")
    assert store.complete_pushed(job, record)
    pushed = store.pushed("1")
    assert pushed is not None and pushed.state == {"title": "T1"} and pushed.poster_hash == "abc"
    assert store.get_value("last_sync_at") == fake_clock.now()
    assert store.synced_since(fake_clock.now() - 60) == 1
    assert store.synced_per_minute(fake_clock.now() - 3600)[0][1] == 1


def test_outage_history(store: JobStore, fake_clock: FakeClock) -> None:
    start = fake_clock.now()
    store.outage_started(start)
    store.outage_started(start + 5)  # a restart continues the same outage
    store.outage_ended(start + 90)
    outages = store.outages(start - 1)
    assert len(outages) == 1 and outages[0].duration == 90


def test_breaker_state_round_trip(store: JobStore) -> None:
    assert store.load_breaker() is None
    store.save_breaker({"state": "open", "opened_at": 5.0})
    assert store.load_breaker() == {"state": "open", "opened_at": 5.0}


def test_connections_are_per_thread(store: JobStore) -> None:
    store.enqueue("1", scene(1))
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(store.counts().pending))
    thread.start()
    thread.join()
    assert seen == [1]


def test_history_is_pruned(store: JobStore, fake_clock: FakeClock) -> None:
    store.record_outcome(synced=3)
    store.outage_started(fake_clock.now())
    store.outage_ended(fake_clock.now() + 1)
    fake_clock.advance(40 * DAY)
    store.prune_history()
    assert store.synced_since(0) == 0
    assert store.outages(0) == []


def test_the_queue_end_is_found_by_index_not_by_reading_every_job(store: JobStore) -> None:
    """Each enqueue (and a DLQ retry) asks for the highest `seq`. Read by scanning the queue,
    that cost 0.2 ms at 2,000 queued jobs and 1.2 ms at 20,000, so a first sync's cost grew
    with the square of the queue (issue 15)."""
    seen: list[str] = []
    db = store._db()  # this thread's connection, the one the calls below use
    db.set_trace_callback(seen.append)
    try:
        for n in (1, 2):
            store.enqueue(str(n), scene(n))
        (job,) = store.dequeue(1)
        entry = store.dead_letter(job, error_class="permanent", message="bad", attempts=1)
        assert store.dlq_retry([entry]) == 1
    finally:
        db.set_trace_callback(None)
    asks = {sql for sql in seen if "MAX(seq)" in sql}
    assert len(asks) == 2  # enqueue's and the DLQ retry's
    for sql in asks:
        plan = " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "jobs_seq" in plan, f"{sql}: {plan}"


def test_known_tags_hold_only_while_updated_at_stays_at_our_write(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "s.sqlite3")
    item = PlexItem("9", "1", "t", "", "", "", ("G1", "G2", "G3"), (), ("Ours", "Theirs"), (), 0)
    store.known_put(replace(item, complete=True), 1000)
    listed = replace(item, genres=("G1", "G2"), collections=("Ours",))
    for updated_at, holds in ((999, True), (1000, True), (1001, False), (998, False), (5, False)):
        known = store.known_tags(replace(listed, updated_at=updated_at))
        assert (known is not None) is holds, updated_at  # later: edited; earlier: restored
    known = store.known_tags(replace(listed, updated_at=1000))
    assert known is not None and known.genres == ("G1", "G2", "G3")
    assert known.collections == ("Ours",) and not known.whole("collection")  # the listing's
    store.note_plex_write("9", 1000)
    assert store.plex_writes(["9", "10"]) == {"9": 1000}
    store.close()
