"""`plexsync config set KEY VALUE`: words typed on a command line become typed settings, and a
bad one names the setting and what it accepts."""

from __future__ import annotations

import pytest

from engine.config.model import PathMapping
from engine.config.values import SettingError, describe, parse_setting
from engine.sync.run_counts import RunCounts

MEDIA = "/media"
JSON_ROWS = '[{"stash_prefix": "/a=b", "plex_prefix": "/c"}]'  # JSON: a prefix may hold "="


@pytest.mark.parametrize(
    ("key", "values", "expected"),
    [
        ("poll_interval", ["60"], 60.0),
        ("max_retries", ["0"], 0),
        ("sync_poster", ["off"], False),
        ("notifications", ["Yes"], True),
        ("library_check", ["daily"], "daily"),
        ("plex_libraries", ["Movies", "Films"], ["Movies", "Films"]),
        ("plex_libraries", [], []),
        ("tag_exclude", ["Secret", "Draft"], ["Secret", "Draft"]),
        ("tag_exclude", [], []),
        ("code_field", ["editionTitle"], "editionTitle"),
        ("tags_as", ["both"], "both"),
        ("content_rating", ["XXX"], "XXX"),
        ("sync_rating", ["off"], False),
        (
            "path_mappings",
            ["/data=/media"],
            [PathMapping(stash_prefix="/data", plex_prefix="/media")],
        ),
        (
            "path_mappings",
            ['[{"stash_prefix": "/a=b", "plex_prefix": "/c"}]'],
            [{"stash_prefix": "/a=b", "plex_prefix": "/c"}],
        ),
    ],
)
def test_values_are_typed(key: str, values: list[str], expected: object) -> None:
    assert parse_setting(key, values) == expected


@pytest.mark.parametrize(
    ("key", "values", "words"),
    [
        ("poll_interval", ["0"], "from 1 to 3600 (seconds)"),
        ("poll_interval", ["nan"], "from 1 to 3600"),
        ("max_retries", ["1.5"], "a whole number from 0 to 20"),
        ("dlq_retention_days", ["366"], "from 1 to 365 (days)"),
        ("library_check", ["monthly"], "one of never, daily, weekly"),
        ("strict_matching", ["perhaps"], "true or false"),
        ("poll_interval", ["1", "2"], "takes one value"),
        ("schema_version", ["2"], "unknown setting"),
        ("path_mappings", ["/data:/media"], "STASH_PREFIX=PLEX_PREFIX"),
        ("path_mappings", ["{}"], "STASH_PREFIX=PLEX_PREFIX"),
        ("plex_libraries", ["[1,"], "not valid JSON"),
    ],
)
def test_bad_values_name_the_setting_and_what_it_takes(
    key: str, values: list[str], words: str
) -> None:
    with pytest.raises(SettingError, match=r".") as caught:
        parse_setting(key, values)
    assert words in str(caught.value)


def test_every_setting_is_described() -> None:
    assert describe("plex_url") == "an http:// or https:// URL"
    assert describe("plex_ca_bundle").startswith("a file path")


def test_the_run_tally_uses_thousands_separators() -> None:
    counts = RunCounts()
    for wrote in [True] * 12 + [False] * 1988:
        counts.pushed(wrote=wrote)
    counts.failed = 1
    assert counts.summary() == "synced 12, unchanged 1,988, failed 1 (in the DLQ)"
    counts.skipped = 2
    assert counts.summary().endswith("skipped 2 (not in Plex)")


def test_issue_24_choices_name_what_they_accept() -> None:
    with pytest.raises(SettingError, match="one of off, tagline, originalTitle, editionTitle"):
        parse_setting("code_field", ["subtitle"])
    assert describe("tag_exclude") == "tag names (none sends every tag)"
