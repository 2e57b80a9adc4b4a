"""Property-based checks of the small pure pieces the engine's correctness rests on."""

from __future__ import annotations

import datetime as dt

from fake_clock import FakeClock
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.breaker import CircuitBreaker, CircuitState
from engine.config.file import PathMapping, PlexSyncConfig
from engine.plan.desired import apply_params, clean_list, plan_edit
from engine.plan.matching import map_path
from engine.plex.model import PlexItem
from engine.stash.keyset import watermark_minus

events = st.lists(
    st.one_of(st.just("success"), st.just("failure"), st.floats(min_value=0, max_value=200)),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(events, st.integers(1, 6), st.integers(1, 3))
def test_breaker_matches_a_simple_model(seq: list[object], threshold: int, needed: int) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold, 60.0, needed, clock=clock.now)
    state, failures, successes, opened = "closed", 0, 0, 0.0
    for event in seq:
        if isinstance(event, float):
            clock.advance(event)
        if state == "open" and clock.now() >= opened + 60:
            state, successes = "half_open", 0
        if event == "failure":
            breaker.record_failure()
            if state == "half_open" or (state == "closed" and failures + 1 >= threshold):
                state, failures, opened = "open", 0, clock.now()
            elif state == "closed":
                failures += 1
        elif event == "success":
            breaker.record_success()
            if state == "half_open":
                successes += 1
                if successes >= needed:
                    state, failures = "closed", 0
            elif state == "closed":
                failures = 0
        assert breaker.state is CircuitState(state)
        assert breaker.can_execute() == (state != "open")


offsets = st.sampled_from(["Z", "+00:00", "+10:00", "-05:30"])


@given(
    st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2090, 1, 1)),
    offsets,
    st.integers(0, 10 * 86400),
)
def test_watermark_overlap_keeps_stash_format_and_orders_as_text(
    moment: dt.datetime, offset: str, seconds: int
) -> None:
    text = moment.replace(microsecond=0).isoformat() + offset
    earlier = watermark_minus(text, seconds)
    assert earlier.endswith(offset)
    assert len(earlier) == len(text)
    assert earlier <= text  # same offset, same format: text order is time order


names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(st.lists(names, max_size=30))
def test_clean_list_has_no_empties_or_case_duplicates(values: list[str]) -> None:
    result = clean_list(values)
    assert all(result)
    assert len({v.casefold() for v in result}) == len(result)


segment = st.text("abcdé_-", min_size=1, max_size=6)


@given(st.lists(segment, min_size=1, max_size=4), st.lists(segment, min_size=1, max_size=4))
def test_path_mapping_replaces_only_the_prefix(prefix: list[str], rest: list[str]) -> None:
    stash_prefix = "/" + "/".join(prefix)
    path = stash_prefix + "/" + "/".join(rest)
    mapping = PathMapping(stash_prefix=stash_prefix, plex_prefix="/media")
    assert map_path(path, [mapping]) == "/media/" + "/".join(rest)
    assert map_path("/other" + path, [mapping]) == "/other" + path


def _full_item(genres: list[str]) -> PlexItem:
    return PlexItem("1", "1", "t", "", "", "", tuple(genres), (), (), ("/a",), 0, complete=True)


@given(st.lists(names, max_size=6), st.lists(names, max_size=6), st.lists(names, max_size=6))
def test_planned_edit_keeps_user_tags_and_leaves_exactly_ours(
    user: list[str], before: list[str], after: list[str]
) -> None:
    """Plex ends with Stash's tags plus the user's own; only tags we wrote are ever removed."""
    ours = clean_list(before)
    folded_ours = {name.casefold() for name in ours}
    users = [n for n in clean_list(user) if n.casefold() not in folded_ours]
    item = _full_item(users + ours)
    plan = plan_edit(
        {"title": "x", "tags": after}, item, PlexSyncConfig(), previous={"genre": ours}
    )
    result = [n.casefold() for n in apply_params(item, plan.params).genres]
    wanted = [n.casefold() for n in clean_list(after)]
    assert set(wanted) <= set(result)
    assert {n.casefold() for n in users} <= set(result)
    assert set(result) <= set(wanted) | {n.casefold() for n in users}
