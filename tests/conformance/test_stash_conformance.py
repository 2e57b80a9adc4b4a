"""Our Stash simulator answers the conformance corpus as the real Stash did (issue 21).

The real answers are in `stash_recorded.json` (which Stash, in its header). The simulator runs
the same corpus on a fake clock that passes a second wherever the real run waited for one. Where
the simulator cannot match, `LOOSER` says how the case is compared instead and why; the same
list is in docs/design.md.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from corpus_tools import Run, query_shape
from stash_corpus import RECORDED, RECORDED_SCHEMA, engine_query_shapes, run_corpus

from plexsync_sim.stash.schema import check_subset
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

API_KEY = "conformance-key"
REAL = json.loads(RECORDED.read_text(encoding="utf-8"))


def _jobs_compared(answer: dict[str, Any]) -> dict[str, Any]:
    """A scan's events as far as timing allows: which job events arrive is a race between the
    subscription starting and the scan's first step; the last is always REMOVE, FINISHED."""
    kept = {}
    for protocol, seen in answer.items():
        kept[protocol] = {
            "ack": seen["ack"],
            "scan": seen["scan"],
            "message types": seen["message types"],
            "first message keys": sorted(seen["first message"]),
            "last event": seen["events"][-1],
        }
    return kept


LOOSER: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], str]] = {
    "jobs_during_a_scan": (_jobs_compared, "job timing: which early events a subscriber sees"),
}


class _Clock:
    """The simulator's time: now, plus the seconds the corpus asked to pass."""

    def __init__(self) -> None:
        import time

        self._base = float(int(time.time()))
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._base + self._offset

    def tick(self) -> None:
        with self._lock:
            self._offset += 1.0


@pytest.fixture(scope="module")
def simulated() -> Iterator[dict[str, Any]]:
    clock = _Clock()
    sim = StashSimulator(api_key=API_KEY, scenes=5, now=clock.now, scanned_only=True).start()
    run = Run(sim.url, API_KEY, clock.tick)
    try:
        yield run_corpus(run)
    finally:
        run.close()
        sim.stop()


@pytest.mark.parametrize("name", list(REAL["answers"]))
def test_the_simulator_answers_each_case_as_the_real_stash(
    simulated: dict[str, Any], name: str
) -> None:
    real, ours = REAL["answers"][name], simulated[name]
    if name in LOOSER:
        compared, _why = LOOSER[name]
        real, ours = compared(real), compared(ours)
    assert ours == real


def test_the_corpus_holds_every_case_it_runs(simulated: dict[str, Any]) -> None:
    assert list(simulated) == list(REAL["answers"])


def test_every_query_the_engine_builds_has_a_recorded_real_answer() -> None:
    assert set(engine_query_shapes()) <= set(REAL["engine_query_shapes"])


def test_every_type_field_and_argument_of_the_simulator_is_the_real_stashs() -> None:
    assert check_subset(json.loads(RECORDED_SCHEMA.read_text(encoding="utf-8"))) == []


def test_the_recording_names_the_stash_it_came_from() -> None:
    assert REAL["stash"]["version"].startswith("v")
    assert len(REAL["stash"]["commit"]) == 40


def test_query_shapes_ignore_aliases_and_repeats() -> None:
    one = "query P($i0: ID!) { o0: findTag(id: $i0) { id } }"
    two = "query P($i0: ID!, $i1: ID!) { o0: findTag(id: $i0) { id } o1: findTag(id: $i1) { id } }"
    assert query_shape(one) == query_shape(two)
    assert query_shape(one) != query_shape("query P($i0: ID!) { o0: findStudio(id: $i0) { id } }")
