from __future__ import annotations

import random

import pytest

from engine.errors import ErrorClass
from engine.retry import NOT_FOUND_BACKOFF, Action, RetryPolicy, transient_backoff


def policy(**kw: object) -> RetryPolicy:
    return RetryPolicy(rng=random.Random(7), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("retry_index", "window"), [(0, 5), (1, 10), (2, 20), (3, 40), (4, 80), (5, 80), (40, 80)]
)
def test_transient_window_doubles_up_to_cap(retry_index: int, window: float) -> None:
    assert transient_backoff(5).window(retry_index) == window


@pytest.mark.parametrize(("retry_index", "window"), [(0, 30), (1, 60), (4, 480), (5, 600)])
def test_not_found_window(retry_index: int, window: float) -> None:
    assert NOT_FOUND_BACKOFF.window(retry_index) == window
    assert NOT_FOUND_BACKOFF.max_attempts == 12


def test_full_jitter_stays_inside_the_window() -> None:
    p = policy(max_retries=20)
    for attempts in range(10):
        for _ in range(50):
            d = p.decide(ErrorClass.TRANSIENT, attempts)
            assert d.action is Action.RETRY
            assert 0 <= d.delay <= min(80, 5 * 2**attempts)
            assert d.attempts == attempts + 1


def test_transient_dead_letters_after_max_retries() -> None:
    p = policy(max_retries=5)
    assert p.decide(ErrorClass.TRANSIENT, 4).action is Action.RETRY
    final = p.decide(ErrorClass.TRANSIENT, 5)
    assert final.action is Action.DEAD_LETTER and final.attempts == 6


def test_zero_retries_dead_letters_at_first_failure() -> None:
    assert policy(max_retries=0).decide(ErrorClass.TRANSIENT, 0).action is Action.DEAD_LETTER


def test_not_found_has_twelve_attempts() -> None:
    p = policy()
    assert p.decide(ErrorClass.NOT_FOUND, 10).action is Action.RETRY
    assert p.decide(ErrorClass.NOT_FOUND, 11).action is Action.DEAD_LETTER


def test_retry_after_wins_over_computed_delay() -> None:
    d = policy().decide(ErrorClass.TRANSIENT, 0, retry_after=42)
    assert d.action is Action.RETRY and d.delay == 42
    assert policy().decide(ErrorClass.TRANSIENT, 0, retry_after=10**9).delay == 3600


def test_outage_never_consumes_attempts() -> None:
    d = policy(max_retries=0).decide(ErrorClass.UNREACHABLE, 99)
    assert d.action is Action.HOLD and d.attempts == 99


def test_auth_pauses_instead_of_failing() -> None:
    assert policy().decide(ErrorClass.AUTH, 0).action is Action.PAUSE


@pytest.mark.parametrize("error_class", [ErrorClass.PERMANENT, ErrorClass.AMBIGUOUS])
def test_permanent_goes_to_dlq_at_once(error_class: ErrorClass) -> None:
    assert policy().decide(error_class, 0).action is Action.DEAD_LETTER


def test_skip_not_found_drops() -> None:
    assert policy(skip_not_found=True).decide(ErrorClass.NOT_FOUND, 0).action is Action.DROP


def test_seeded_rng_makes_delays_repeatable() -> None:
    a = [policy().decide(ErrorClass.TRANSIENT, 2).delay for _ in range(3)]
    b = [policy().decide(ErrorClass.TRANSIENT, 2).delay for _ in range(3)]
    assert a == b
