"""The in-flight limit (AIMD): grow while latency holds and is worth it, halve on overload."""

from __future__ import annotations

from engine.push.dispatch import Aimd

SLOW = 0.030  # seconds per request: a Plex worth overlapping


def answers(aimd: Aimd, count: int, latency: float = SLOW) -> None:
    for _ in range(count):
        aimd.on_success(latency)


def test_it_starts_at_one_and_adds_one_per_round_of_answers() -> None:
    aimd = Aimd(8)
    assert aimd.limit == 1
    answers(aimd, 1)
    assert aimd.limit == 2
    answers(aimd, 2)
    assert aimd.limit == 3
    answers(aimd, 2)
    assert aimd.limit == 3  # a round at three is three answers
    answers(aimd, 1)
    assert aimd.limit == 4


def test_it_never_passes_the_ceiling() -> None:
    aimd = Aimd(4)
    answers(aimd, 200)
    assert aimd.limit == 4
    aimd.configure(2)  # a lower ceiling from the settings applies at once
    assert aimd.limit == 2


def test_fast_answers_keep_one_in_flight() -> None:
    aimd = Aimd(4)
    answers(aimd, 200, latency=0.002)  # our own work is the limit: threads would only cost
    assert aimd.limit == 1


def test_a_5xx_or_429_halves_it() -> None:
    aimd = Aimd(16)
    answers(aimd, 200)
    assert aimd.limit == 16
    aimd.on_overload()
    assert aimd.limit == 8
    aimd.on_overload()
    aimd.on_overload()
    aimd.on_overload()
    aimd.on_overload()
    assert aimd.limit == 1  # never below one


def test_an_outage_drops_it_to_one() -> None:
    aimd = Aimd(8)
    answers(aimd, 100)
    aimd.on_outage()
    assert aimd.limit == 1


def test_rising_latency_stops_the_growth() -> None:
    aimd = Aimd(16)
    answers(aimd, 6)
    grown = aimd.limit
    assert grown == 4
    answers(aimd, 30, latency=SLOW * 3)  # Plex slows down as we send more: hold
    assert aimd.limit == grown


def test_growth_resumes_when_latency_settles_at_a_new_level() -> None:
    aimd = Aimd(16)
    answers(aimd, 6)
    answers(aimd, 2000, latency=SLOW * 3)  # a slower network for good: the floor follows
    assert aimd.limit > 4
