from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from engine.config import (
    PlexSyncConfig,
    config_path,
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
    assert config.schema_version == 1
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

    monkeypatch.setattr("engine.config.os.fsync", fail)
    with pytest.raises(OSError):
        save_config(PlexSyncConfig(poll_interval=20), path)
    assert load_config(path).poll_interval == 10  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_invalid_json_is_kept_as_backup_with_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    loaded = load_config_report(path)
    assert loaded.config == PlexSyncConfig()
    assert loaded.problem is not None
    assert "not valid JSON" in loaded.problem.summary
    backup = loaded.problem.backup_path
    assert backup is not None and backup.read_text() == "{not json"
    assert backup.name.startswith("config.json.") and backup.name.endswith(".bak")
    assert not path.exists()  # never silently overwritten: the user's text lives in the .bak


def test_invalid_field_names_field_and_range(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"poll_interval": 0, "plex_token": SECRET}))
    loaded = load_config_report(path)
    assert loaded.problem is not None
    fields = {p.field: p.message for p in loaded.problem.fields}
    assert "greater than or equal to 1" in fields["poll_interval"]
    assert SECRET not in loaded.problem.describe()
    assert loaded.problem.backup_path is not None and loaded.problem.backup_path.exists()


def test_check_only_keeps_the_file_in_place(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("[]")
    loaded = load_config_report(path, keep_backup=False)
    assert loaded.problem is not None and loaded.problem.backup_path is None
    assert path.exists()


def test_two_bad_loads_keep_two_backups(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    for _ in range(2):
        path.write_text("oops")
        load_config_report(path)
    assert len(list(tmp_path.glob("*.bak"))) == 2
