"""A rename follow-up given up by the poll shows in the next library check (issue 21)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_clock import FakeClock
from sync_helpers import config_for, engine_for, settle
from test_library_check import findings, run_check, sims

from engine.store.checks import CheckKind

pytestmark = pytest.mark.integration


def test_a_follow_up_given_up_is_a_finding_of_the_next_check_and_fix_clears_it(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    with (
        sims(fake_clock, n=10) as (plex, stash),
        engine_for(tmp_path, config_for(plex, stash, sync_poster=False), fake_clock) as (
            engine,
            store,
        ),
    ):
        settle(engine, fake_clock)
        store.record_dropped_follow_up(
            "reading the scenes of 1 renamed tag(s)", "Stash refused the request: boom", 1.0
        )
        run_check(engine, fake_clock)
        found = [f for f in findings(engine) if f.kind is CheckKind.FOLLOW_UP_DROPPED]
        assert len(found) == 1
        assert found[0].title == "1 Stash rename or merge follow-up(s) given up"
        assert "renamed tag(s): Stash refused the request: boom" in found[0].detail
        assert store.dropped_follow_ups() == []  # reported once
        queued = store.counts().pending
        assert engine.checker.fix(None) == 1
        assert store.counts().pending == queued  # nothing to rewrite for it
        assert findings(engine) == []
        run_check(engine, fake_clock)
        assert findings(engine) == []
