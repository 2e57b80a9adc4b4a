"""The fan-out of renames and merges: a failing follow-up never blocks the rest (issue 21)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fakes import FakeStash
from fake_clock import FakeClock

from engine.errors import StashQueryError, SyncError, UnreachableError
from engine.poll.objects import BACKOFF_BASE, MAX_ATTEMPTS, FanOut
from engine.stash.scene import ScenePage
from engine.store.jobs import JobStore


class RefusingStash(FakeStash):
    """Stash that refuses every read of the scenes carrying one object."""

    def __init__(self, refused: str, error: SyncError) -> None:
        super().__init__()
        self.refused, self.error = refused, error
        self.asked: list[list[str]] = []

    def scenes_carrying(self, kind: str, ids: list[str], after_id: int, size: int) -> ScenePage:
        self.asked.append(list(ids))
        if self.refused in ids:
            raise self.error
        return super().scenes_carrying(kind, ids, after_id, size)


@pytest.fixture
def store(tmp_path: Path, fake_clock: FakeClock) -> Iterator[JobStore]:
    opened = JobStore(tmp_path / "db.sqlite3", clock=fake_clock)
    yield opened
    opened.close()


def refused() -> StashQueryError:
    return StashQueryError("Stash refused the request", "some resolver error")


def fan_out(stash: FakeStash, store: JobStore, clock: FakeClock) -> tuple[FanOut, list[int]]:
    taken: list[int] = []

    def take(page: ScenePage) -> int:
        taken.extend(int(s.id) for s in page.scenes)
        return len(page.scenes)

    return FanOut(stash, store, take, clock, page_size=10), taken


def test_a_refused_follow_up_goes_behind_the_others(store: JobStore, fake_clock: FakeClock) -> None:
    stash = RefusingStash("1", refused())
    stash.put(5, tags=("b",))
    stash.carrying[("tag", "2")] = ["5"]
    fan, taken = fan_out(stash, store, fake_clock)
    fan.carrying("tag", ["1"])
    fan.carrying("tag", ["2"])
    assert fan.step() == 0  # the refused one, moved to the back with a backoff
    assert fan.pending
    assert fan.step() == 1  # the one behind it runs
    assert taken == [5]
    assert not fan.pending  # the refused one waits out its backoff
    fake_clock.advance(BACKOFF_BASE)
    assert fan.pending


def test_a_follow_up_refused_again_and_again_is_given_up_and_reported(
    store: JobStore, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    stash = RefusingStash("1", refused())
    fan, _ = fan_out(stash, store, fake_clock)
    fan.carrying("tag", ["1"])
    with caplog.at_level(logging.WARNING):
        for _ in range(MAX_ATTEMPTS):
            fake_clock.advance(3600)
            fan.step()
    assert len(stash.asked) == MAX_ATTEMPTS
    assert not fan.pending
    dropped = store.dropped_follow_ups()
    assert [d["what"] for d in dropped] == ["reading the scenes of 1 renamed tag(s)"]
    assert "some resolver error" in dropped[0]["error"]
    assert any("Gave up on" in r.getMessage() for r in caplog.records)
    # Persisted: a restart neither resurrects it nor forgets the report.
    again, _ = fan_out(stash, store, fake_clock)
    assert not again.pending
    assert store.dropped_follow_ups() == dropped


def test_stash_down_keeps_the_follow_up_in_place_and_goes_up(
    store: JobStore, fake_clock: FakeClock
) -> None:
    down = UnreachableError("Stash is unreachable", "refused")
    stash = RefusingStash("1", down)
    fan, _ = fan_out(stash, store, fake_clock)
    fan.carrying("tag", ["1"])
    fan.carrying("tag", ["2"])
    for _ in range(MAX_ATTEMPTS + 2):
        with pytest.raises(UnreachableError):
            fan.step()
    assert stash.asked[-1] == ["1"]  # still first, never counted against it
    assert store.dropped_follow_ups() == []
