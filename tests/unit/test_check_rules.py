"""The library check's decisions on hand-built data: schedule and field comparison."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.check.drift import compare
from engine.check.library import check_due
from engine.clock import DAY
from engine.config.file import PlexSyncConfig
from engine.plex.model import PlexItem
from engine.store.checks import CheckSummary

NOW = 1_800_000_000.0


def _last(finished_at: float) -> CheckSummary:
    return CheckSummary(run_id=1, started_at=finished_at - 10, finished_at=finished_at, scenes=1)


@pytest.mark.parametrize(
    ("setting", "last", "anchor", "due"),
    [
        ("weekly", None, None, False),  # no anchor yet: the engine sets one at first start
        ("weekly", None, NOW - 6 * DAY, False),
        ("weekly", None, NOW - 7 * DAY, True),
        ("weekly", _last(NOW - 3 * DAY), NOW - 30 * DAY, False),
        ("weekly", _last(NOW - 40 * DAY), None, True),  # off for longer than the interval: once
        ("daily", _last(NOW - DAY + 60), None, False),
        ("daily", _last(NOW - DAY), None, True),
        ("never", _last(NOW - 400 * DAY), None, False),
    ],
)
def test_check_is_due_one_interval_after_the_last(
    setting: str, last: CheckSummary | None, anchor: float | None, due: bool
) -> None:
    config = PlexSyncConfig(library_check=setting)
    assert check_due(config, last, anchor, NOW) is due


def test_library_check_setting_rejects_unknown_values() -> None:
    with pytest.raises(ValueError, match="library_check"):
        PlexSyncConfig(library_check="hourly")


ITEM = PlexItem(
    rating_key="7",
    section_key="1",
    title="Plex title",
    studio="Acme",
    summary="",
    originally_available_at="2024-01-02T00:00:00Z",
    genres=("A", "B"),
    actors=(),
    collections=("Acme",),
    files=("/m/a.mp4",),
    added_at=1,
)
PAYLOAD = {
    "title": "Stash title",
    "studio": "Acme",
    "details": "",
    "date": "2024-01-02",
    "performers": [],
    "tags": ["A", "B", "C"],
}


def test_listing_reports_scalars_and_leaves_hidden_tags_undecided() -> None:
    result = compare(PAYLOAD, ITEM, PlexSyncConfig(), previous=None)
    assert result.fields == ["title"] and result.undecided == ["genre"]


def test_full_item_settles_tags_and_keeps_user_tags_out_of_drift() -> None:
    full = replace(ITEM, genres=("A", "Mine", "B", "C"), complete=True, title="Stash title")
    assert not compare(PAYLOAD, full, PlexSyncConfig(), previous=None).drifted
    missing = replace(full, genres=("A", "Mine"))
    assert compare(PAYLOAD, missing, PlexSyncConfig(), previous=None).fields == ["genre"]


def test_a_stale_tag_we_wrote_that_is_still_visible_is_drift_even_in_a_listing() -> None:
    previous = {"genre": ["A", "B", "Old"], "rating_key": "7"}
    item = replace(ITEM, genres=("Old", "A"), title="Stash title")
    assert compare(PAYLOAD, item, PlexSyncConfig(), previous=previous).fields == ["genre"]


def test_preserved_plex_edits_are_kept_not_fixed() -> None:
    config = PlexSyncConfig(preserve_plex_edits=True)
    result = compare(PAYLOAD, ITEM, config, previous=None)
    assert result.kept == ["title"] and result.fields == []
