"""`plexsync config init` on a terminal: it asks for what the options did not give, secrets
through getpass (no echo), and the Stash URL has its default."""

from __future__ import annotations

import argparse

import pytest

from engine.cli import setup as cli_setup


def test_init_asks_for_what_is_missing_secrets_without_echo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    hidden: list[str] = []
    answers = iter(["http://nas:32400", ""])  # the Stash URL left at its default
    monkeypatch.setattr(cli_setup.sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda text: asked.append(text) or next(answers))
    secrets = iter(["tok-123", ""])
    monkeypatch.setattr(
        cli_setup.getpass, "getpass", lambda text: hidden.append(text) or next(secrets)
    )
    args = argparse.Namespace(plex_url=None, plex_token=None, stash_url=None, stash_api_key=None)
    assert cli_setup._answers(args) == {
        "plex_url": "http://nas:32400",
        "plex_token": "tok-123",
        "stash_url": "http://localhost:9999",
        "stash_api_key": None,
    }
    assert [a.split(" ")[0] for a in asked] == ["Plex", "Stash"]
    assert [h.split(" ")[0] for h in hidden] == ["Plex", "Stash"]


def test_init_without_a_terminal_needs_the_plex_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_setup.sys.stdin, "isatty", lambda: False)
    args = argparse.Namespace(plex_url=None, plex_token=None, stash_url=None, stash_api_key=None)
    with pytest.raises(cli_setup.SettingError, match="--plex-url"):
        cli_setup._answers(args)
