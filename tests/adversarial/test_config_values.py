"""Config values that would crash or deceive a client are rejected at load, field named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.config.file import PlexSyncConfig, load_config_report

TOKEN = "good-token-123456"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://a b c", "spaces"),
        ("http://plex:99999", "port"),
        ("http://plex:0", "port"),
        ("http://plex:abc", "port"),
        ("http://[::1", "IPv6"),
        ("http://plex\r\n:32400", "line breaks"),
        ("http://\tplex", "spaces"),
        ("http://:32400", "host"),
        ("http://", "host"),
    ],
)
@pytest.mark.parametrize("name", ["plex_url", "stash_url"])
def test_unusable_urls_are_rejected_with_the_field_named(
    tmp_path: Path, name: str, url: str, words: str
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({name: url, "plex_token": TOKEN, "max_retries": 2}))
    loaded = load_config_report(path)
    assert loaded.problem is not None
    (problem,) = loaded.problem.fields
    assert problem.field == name and words in problem.message
    assert loaded.config.max_retries == 2 and loaded.config.plex_token.get_secret_value() == TOKEN


@pytest.mark.parametrize(
    "token",
    [
        "abc\r\nX-Injected: 1",
        "abc\ndef",
        "abc\rdef",
        "tok\x00en",
        "tök-en",
        "to ken",
        "long-token-value\n",
    ],
)
@pytest.mark.parametrize("name", ["plex_token", "stash_api_key"])
def test_secrets_that_cannot_be_a_header_are_rejected_without_echo(name: str, token: str) -> None:
    with pytest.raises(ValueError) as info:
        PlexSyncConfig.model_validate({name: token})
    assert info.value.errors()[0]["loc"] == (name,)  # type: ignore[attr-defined]
    assert token.strip() not in str(info.value)


def test_good_urls_and_tokens_still_load() -> None:
    config = PlexSyncConfig(
        plex_url="https://[::1]:32400/", stash_url="http://stash.lan", plex_token=" tok-1 "
    )
    assert config.plex_url == "https://[::1]:32400"
    assert config.plex_token.get_secret_value() == "tok-1"


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000, "\x00\xff", "", "null", '"x"', "1e999"],
)
def test_hostile_files_are_a_clear_problem_never_a_crash(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(text, encoding="latin-1")
    loaded = load_config_report(path)
    assert loaded.problem is not None and loaded.config == PlexSyncConfig()
    assert path.read_text(encoding="latin-1") == text


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"plex_libraries": ["' + "x" * 2_000_000 + '"]}')
    loaded = load_config_report(path)
    assert loaded.problem is not None and "larger than" in loaded.problem.summary


def test_wrong_types_in_every_field_keep_the_rest(tmp_path: Path) -> None:
    fields = {name: {"nested": [1, 2]} for name in PlexSyncConfig.model_fields}
    fields["plex_url"] = "http://plex:32400"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(fields))
    loaded = load_config_report(path)
    assert loaded.config.plex_url == "http://plex:32400"
    assert loaded.problem is not None
    named = {p.name for p in loaded.problem.fields}
    assert named == set(PlexSyncConfig.model_fields) - {"plex_url"}
