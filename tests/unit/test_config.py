from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from engine.config.file import (
    PlexSyncConfig,
    config_path,
    fix_permissions,
    load_config,
    load_config_report,
    save_config,
)

SECRET = "tok-S3cr3t-value-xyz"

RANGES: list[tuple[str, Any, Any, Any]] = [
    # field, default, lowest allowed, highest allowed
    ("poll_interval", 30.0, 1, 3600),
    ("plex_connect_timeout", 5.0, 1, 30),
    ("plex_read_timeout", 30.0, 1, 120),
    ("failure_threshold", 5, 1, 100),
    ("recovery_timeout", 60.0, 1, 3600),
    ("success_threshold", 1, 1, 10),
    ("max_retries", 5, 0, 20),
    ("dlq_retention_days", 30, 1, 365),
]


@pytest.mark.parametrize(("name", "default", "low", "high"), RANGES)
def test_numeric_defaults_and_range_edges(name: str, default: Any, low: Any, high: Any) -> None:
    assert getattr(PlexSyncConfig(), name) == default
    assert getattr(PlexSyncConfig(**{name: low}), name) == low
    assert getattr(PlexSyncConfig(**{name: high}), name) == high
    for bad in (low - 1, high + 1):
        with pytest.raises(ValidationError) as info:
            PlexSyncConfig(**{name: bad})
        assert info.value.errors()[0]["loc"] == (name,)


def test_other_defaults() -> None:
    config = PlexSyncConfig()
    assert config.plex_url == ""
    assert config.plex_token.get_secret_value() == ""
    assert config.plex_libraries == []
    assert config.stash_url == "http://localhost:9999"
    assert config.stash_api_key is None
    assert config.strict_matching is True
    assert config.preserve_plex_edits is False
    assert config.skip_not_found is False
    assert config.lock_synced_fields is True
    assert config.path_mappings == []
    for toggle in ("title", "studio", "summary", "date", "performers", "tags", "collection"):
        assert getattr(config, f"sync_{toggle}") is True
    assert config.sync_poster is True
    assert config.notifications is True
    assert config.start_at_login is False
    assert config.schema_version == 2
    assert not config.is_configured


def test_urls_are_checked_and_trailing_slash_stripped() -> None:
    config = PlexSyncConfig(plex_url="https://plex.local:32400/", stash_url="http://s:9999//")
    assert config.plex_url == "https://plex.local:32400"
    assert config.stash_url == "http://s:9999"
    for bad in ("ftp://plex", "plex.local", "http://"):
        with pytest.raises(ValidationError):
            PlexSyncConfig(plex_url=bad)
    with pytest.raises(ValidationError):
        PlexSyncConfig(stash_url="")


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        PlexSyncConfig.model_validate({"plex_tokn": "x"})
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_path_mappings_validate() -> None:
    config = PlexSyncConfig(path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}])
    assert config.path_mappings[0].plex_prefix == "/media"
    with pytest.raises(ValidationError):
        PlexSyncConfig(path_mappings=[{"stash_prefix": "", "plex_prefix": "/media"}])


def test_secrets_never_in_repr_str_or_masked_output() -> None:
    config = PlexSyncConfig(plex_token=SECRET, stash_api_key="key-" + SECRET)
    assert SECRET not in repr(config)
    assert SECRET not in str(config)
    assert SECRET not in json.dumps(config.masked())
    assert SECRET not in config.model_dump_json()
    assert config.masked()["plex_token"] == "********"


def test_secrets_never_in_validation_errors() -> None:
    with pytest.raises(ValidationError) as info:
        PlexSyncConfig.model_validate({"plex_token": SECRET, "poll_interval": 0})
    assert SECRET not in str(info.value)


def test_config_path_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "plexsync-tray" / "config.json"


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    loaded = load_config_report(tmp_path / "none.json")
    assert loaded.config == PlexSyncConfig()
    assert loaded.problem is None
    assert not loaded.existed


def test_save_round_trips_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.json"
    config = PlexSyncConfig(plex_url="http://p:32400", plex_token=SECRET, plex_libraries=["A"])
    assert save_config(config, path) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config(path) == config
    assert json.loads(path.read_text())["plex_token"] == SECRET


def test_save_is_atomic_and_leaves_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.json"
    save_config(PlexSyncConfig(poll_interval=10), path)

    def fail(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("engine.config.file.os.fsync", fail)
    with pytest.raises(OSError):
        save_config(PlexSyncConfig(poll_interval=20), path)
    assert load_config(path).poll_interval == 10  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_invalid_json_is_reported_left_in_place_and_backed_up_by_the_next_save(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    loaded = load_config_report(path)
    assert loaded.config == PlexSyncConfig()
    assert loaded.problem is not None and loaded.existed
    assert "not valid JSON" in loaded.problem.summary
    assert path.read_text() == "{not json"  # reading never moves or changes the file
    assert load_config_report(path).problem is not None  # the next start is told again
    save_config(PlexSyncConfig(poll_interval=12), path)
    backups = list(tmp_path.glob("config.json.*.bak"))
    assert len(backups) == 1 and backups[0].read_text() == "{not json"
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    assert load_config(path).poll_interval == 12


def test_one_bad_field_keeps_every_valid_value(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    text = json.dumps(
        {
            "plex_url": "http://plex:32400",
            "plex_token": SECRET,
            "poll_interval": 0,
            "max_retries": 7,
        }
    )
    path.write_text(text)
    loaded = load_config_report(path)
    assert loaded.config.plex_url == "http://plex:32400"
    assert loaded.config.plex_token.get_secret_value() == SECRET
    assert loaded.config.max_retries == 7
    assert loaded.config.poll_interval == 30.0  # only the bad field takes its default
    assert loaded.problem is not None
    (problem,) = loaded.problem.fields
    assert problem.name == "poll_interval"
    assert "greater than or equal to 1" in problem.message
    assert "default 30" in problem.describe()
    assert SECRET not in loaded.problem.describe()
    assert path.read_text() == text and not list(tmp_path.glob("*.bak"))


def test_a_bad_mapping_row_drops_only_that_row(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    rows = [
        {"stash_prefix": "/a", "plex_prefix": "/b"},
        {"stash_prefix": "", "plex_prefix": "/c"},
        {"stash_prefix": "/d", "plex_prefix": "/e"},
    ]
    path.write_text(json.dumps({"path_mappings": rows}))
    loaded = load_config_report(path)
    assert [m.stash_prefix for m in loaded.config.path_mappings] == ["/a", "/d"]
    assert loaded.problem is not None
    assert loaded.problem.fields[0].field == "path_mappings.1.stash_prefix"


def test_an_unknown_key_is_ignored_with_a_warning_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    text = json.dumps({"plex_url": "http://plex:32400", "plex_tokn": "x", "max_retries": 3})
    path.write_text(text)
    loaded = load_config_report(path)
    assert loaded.problem is None  # usable: `run` starts
    assert loaded.ignored_keys == ("plex_tokn",)
    assert any("plex_tokn" in w for w in loaded.warnings())
    assert loaded.config.plex_url == "http://plex:32400" and loaded.config.max_retries == 3
    assert path.read_text() == text  # the file (and the key) stay where they are


def test_a_world_readable_config_with_a_token_is_flagged_and_fixed(tmp_path: Path) -> None:
    path = save_config(PlexSyncConfig(plex_token=SECRET), tmp_path / "config.json")
    assert not load_config_report(path).exposed
    path.chmod(0o644)
    loaded = load_config_report(path)
    assert loaded.exposed and any("fix-permissions" in w for w in loaded.warnings())
    fix_permissions(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not load_config_report(path).exposed


def test_a_readable_config_without_secrets_is_not_flagged(tmp_path: Path) -> None:
    path = save_config(PlexSyncConfig(poll_interval=5), tmp_path / "config.json")
    path.chmod(0o644)
    assert not load_config_report(path).exposed


def test_a_symlinked_config_target_is_never_changed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text('{"poll_interval": 0, "plex_token": "abcdefgh"}')
    target.chmod(0o644)
    link = tmp_path / "config.json"
    link.symlink_to(target)
    loaded = load_config_report(link)
    assert loaded.problem is not None and loaded.exposed
    assert "symbolic link" in fix_permissions(link)
    save_config(loaded.config, link)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # never chmod-ed through the link
    assert target.read_text() == '{"poll_interval": 0, "plex_token": "abcdefgh"}'
    assert not link.is_symlink() and stat.S_IMODE(link.stat().st_mode) == 0o600
    assert list(tmp_path.glob("config.json.*.bak"))


def test_a_valid_file_is_not_backed_up_on_save(tmp_path: Path) -> None:
    path = save_config(PlexSyncConfig(poll_interval=5), tmp_path / "config.json")
    save_config(PlexSyncConfig(poll_interval=6), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]
