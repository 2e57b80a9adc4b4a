from __future__ import annotations

from typing import Any

import pytest
from fake_clock import FakeClock

from engine.breaker import CircuitBreaker, CircuitState


class MemoryStorage:
    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data = data

    def load_breaker(self) -> dict[str, Any] | None:
        return self.data

    def save_breaker(self, data: dict[str, Any]) -> None:
        self.data = dict(data)


def make(clock: FakeClock, **kw: Any) -> CircuitBreaker:
    return CircuitBreaker(clock=clock.now, **kw)


def test_defaults_are_the_seed_plan() -> None:
    breaker = CircuitBreaker()
    assert (breaker.failure_threshold, breaker.recovery_timeout, breaker.success_threshold) == (
        5,
        60.0,
        1,
    )
    assert breaker.state is CircuitState.CLOSED


def test_opens_after_five_consecutive_failures(fake_clock: FakeClock) -> None:
    breaker = make(fake_clock)
    for _ in range(4):
        breaker.record_failure()
        assert breaker.state is CircuitState.CLOSED
        assert breaker.can_execute()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    assert not breaker.can_execute()


def test_success_in_closed_resets_the_count(fake_clock: FakeClock) -> None:
    breaker = make(fake_clock)
    for _ in range(4):
        breaker.record_failure()
    breaker.record_success()
    assert breaker.failure_count == 0
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED


def test_half_opens_after_recovery_timeout(fake_clock: FakeClock) -> None:
    breaker = make(fake_clock)
    for _ in range(5):
        breaker.record_failure()
    assert breaker.retry_at == pytest.approx(fake_clock.now() + 60)
    fake_clock.advance(59.9)
    assert breaker.state is CircuitState.OPEN
    fake_clock.advance(0.1)
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.can_execute()
    assert breaker.retry_at is None


def test_success_in_half_open_closes(fake_clock: FakeClock) -> None:
    breaker = make(fake_clock, failure_threshold=1)
    breaker.record_failure()
    fake_clock.advance(60)
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.opened_at is None


def test_failure_in_half_open_reopens_with_fresh_timeout(fake_clock: FakeClock) -> None:
    breaker = make(fake_clock, failure_threshold=1)
    breaker.record_failure()
    fake_clock.advance(61)
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    assert breaker.opened_at == fake_clock.now()
    fake_clock.advance(59)
    assert breaker.state is CircuitState.OPEN


def test_success_threshold_above_one(fake_clock: FakeClock) -> None:
    breaker = make(fake_clock, failure_threshold=1, success_threshold=3)
    breaker.record_failure()
    fake_clock.advance(60)
    breaker.record_success()
    breaker.record_success()
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED


def test_manual_reset_closes_an_open_breaker(fake_clock: FakeClock) -> None:
    breaker = make(fake_clock, failure_threshold=1)
    breaker.record_failure()
    breaker.reset()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.failure_count == 0


def test_half_open_now_skips_the_wait(fake_clock: FakeClock) -> None:
    breaker = make(fake_clock, failure_threshold=1)
    breaker.record_failure()
    breaker.half_open_now()
    assert breaker.state is CircuitState.HALF_OPEN


def test_listeners_see_every_transition_including_automatic(fake_clock: FakeClock) -> None:
    seen: list[tuple[CircuitState, CircuitState]] = []
    breaker = make(fake_clock, failure_threshold=1)
    breaker.add_listener(lambda old, new: seen.append((old, new)))
    breaker.record_failure()
    fake_clock.advance(60)
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.record_failure()
    fake_clock.advance(60)
    breaker.record_success()
    breaker.record_failure()
    breaker.reset()
    names = [(old.value, new.value) for old, new in seen]
    assert names == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
        ("closed", "open"),
        ("open", "closed"),
    ]


def test_a_failing_listener_does_not_break_the_breaker(fake_clock: FakeClock) -> None:
    breaker = make(fake_clock, failure_threshold=1)

    def boom(old: CircuitState, new: CircuitState) -> None:
        raise RuntimeError("listener bug")

    breaker.add_listener(boom)
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN


def test_open_state_survives_a_restart_with_its_deadline(fake_clock: FakeClock) -> None:
    storage = MemoryStorage()
    first = make(fake_clock, failure_threshold=2, storage=storage)
    first.record_failure()
    first.record_failure()
    opened = first.opened_at
    fake_clock.advance(30)
    seen: list[object] = []
    second = make(fake_clock, failure_threshold=2, storage=storage)
    second.add_listener(lambda old, new: seen.append((old, new)))
    assert second.state is CircuitState.OPEN
    assert second.opened_at == opened
    assert second.retry_at == pytest.approx(opened + 60)  # type: ignore[operator]
    assert seen == []  # a restart is not a new outage
    fake_clock.advance(30)
    assert second.state is CircuitState.HALF_OPEN


def test_failure_count_survives_a_restart(fake_clock: FakeClock) -> None:
    storage = MemoryStorage()
    first = make(fake_clock, storage=storage)
    for _ in range(3):
        first.record_failure()
    second = make(fake_clock, storage=storage)
    assert second.failure_count == 3


@pytest.mark.parametrize(
    "damaged",
    [
        {"state": "sideways"},
        {"state": "open", "opened_at": None},
        {"state": "open", "opened_at": "soon"},
        {"nothing": 1},
    ],
)
def test_damaged_stored_state_gives_closed(
    fake_clock: FakeClock, damaged: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    breaker = make(fake_clock, storage=MemoryStorage(damaged))
    assert breaker.state is CircuitState.CLOSED
    assert "damaged" in caplog.text


def test_unreadable_storage_gives_closed(fake_clock: FakeClock) -> None:
    class Broken(MemoryStorage):
        def load_breaker(self) -> dict[str, Any] | None:
            raise ValueError("corrupt")

    assert make(fake_clock, storage=Broken()).state is CircuitState.CLOSED


def test_configure_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
