"""`plexsync config init | set | test`: set the app up from a terminal, with the same checks
and the same secret storage as the tray's settings dialog."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from engine.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, cli_paths, secret_store
from engine.config.file import ConfigLoad, PlexSyncConfig, load_config_report, save_config
from engine.config.values import SettingError, parse_setting
from engine.errors import SyncError
from engine.masking import mask_url

DEFAULT_STASH_URL = PlexSyncConfig.model_fields["stash_url"].default
SECRET_HINT = (
    "a token on the command line is visible to other users (`ps`): give `-` to read it from "
    "stdin, or leave the option out to be asked"
)


# --- init ----------------------------------------------------------------------------------


def cmd_config_init(args: argparse.Namespace) -> int:
    paths = cli_paths(args)
    path = paths.config_file
    if path.exists() and not args.force:
        print(
            f"{path} exists already. Change one setting with `plexsync config set KEY VALUE`, "
            "or run `plexsync config init --force` to replace the connection settings "
            "(your other settings are kept).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    store = secret_store()
    loaded = load_config_report(path, secrets=store)
    try:
        answers = _answers(args)
    except SettingError as exc:
        print(f"Not saved: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = loaded.config.with_changes(**answers)
    except ValidationError as exc:
        _print_invalid(exc)
        return EXIT_USAGE
    if not args.no_test and not _test_both(config):
        print(
            "Not saved. Fix the address or credentials, or save without testing: "
            "`plexsync config init --no-test`.",
            file=sys.stderr,
        )
        return EXIT_FAIL
    # An empty answer clears a key only if it was read: one the keyring withheld (locked, no
    # answer) is kept, since the user could not see what they were replacing (issue 22).
    emptied = {f for f in ("stash_api_key",) if not answers.get(f)}
    cleared = frozenset(emptied - loaded.unread_secrets)
    save_config(config, path, secrets=store, cleared_secrets=cleared)
    saved = load_config_report(path, secrets=store)
    where = store.name if saved.in_store else "the file (readable by you only)"
    print(f"Saved {path} (mode 0600); the token and API key are kept in {where}.")
    print("Start syncing with `plexsync run`, or start the tray app.")
    return EXIT_OK


def _answers(args: argparse.Namespace) -> dict[str, object]:
    """The four connection settings from the options, stdin (`-`) or prompts."""
    ask = sys.stdin.isatty()
    plex_url = args.plex_url or (
        _prompt("Plex URL (e.g. http://192.168.1.10:32400): ") if ask else ""
    )
    if not plex_url:
        raise SettingError("plex_url: give --plex-url (for example http://127.0.0.1:32400)")
    token = _secret(args.plex_token, "Plex token (X-Plex-Token): ", ask=ask)
    if not token:
        raise SettingError("plex_token: give --plex-token - and the token on stdin")
    stash_url = args.stash_url or (_prompt(f"Stash URL [{DEFAULT_STASH_URL}]: ") if ask else "")
    key = _secret(args.stash_api_key, "Stash API key (empty if none): ", ask=ask)
    return {
        "plex_url": plex_url,
        "plex_token": token,
        "stash_url": stash_url or DEFAULT_STASH_URL,
        "stash_api_key": key or None,
    }


def _prompt(text: str) -> str:
    return input(text).strip()


def _secret(option: str | None, prompt: str, *, ask: bool) -> str:
    """`-`: one line of stdin; none: asked without echo on a terminal; a value: refused."""
    if option == "-":
        return sys.stdin.readline().rstrip("\r\n")
    if option is not None:
        raise SettingError(SECRET_HINT)
    return getpass.getpass(prompt) if ask else ""


def _print_invalid(exc: ValidationError) -> None:
    from engine.config.file import field_problems

    for problem in field_problems(exc):
        print(f"Not saved: {problem.describe()}", file=sys.stderr)


# --- test ----------------------------------------------------------------------------------


def cmd_config_test(args: argparse.Namespace) -> int:
    paths = cli_paths(args)
    loaded = load_config_report(paths.config_file, secrets=secret_store())
    if loaded.problem is not None:
        print(loaded.problem.describe(), file=sys.stderr)
    if not loaded.existed:
        print(f"No config at {paths.config_file}: run `plexsync config init`.", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK if _test_both(loaded.config) else EXIT_FAIL


def _test_both(config: PlexSyncConfig) -> bool:
    """Test Plex and Stash, one line each with the URL and the result or its cause."""
    from engine.plex.client import test_plex_connection
    from engine.stash.client import test_stash_connection

    def plex() -> str:
        titles = test_plex_connection(config)
        shown = ", ".join(titles) if titles else "none: add a movie library in Plex"
        return f"movie libraries: {shown}"

    def stash() -> str:
        return f"Stash {test_stash_connection(config)}"

    plex_ok = _test_one("Plex ", config.plex_url, plex)
    stash_ok = _test_one("Stash", config.stash_url, stash)
    return plex_ok and stash_ok


def _test_one(name: str, url: str, test: Callable[[], str]) -> bool:
    where = mask_url(url) if url else "(no URL set)"
    try:
        result = test()
    except SyncError as exc:
        cause = f"{exc.title}: {exc.message}" if exc.message else exc.title
        print(f"{name} {where}: FAILED: {cause}")
        return False
    print(f"{name} {where}: OK, {result}")
    return True


# --- set -----------------------------------------------------------------------------------


def cmd_config_set(args: argparse.Namespace) -> int:
    from engine.cli.config import cmd_config_set_secret
    from engine.config.secret_store import SECRET_FIELDS

    if args.key in SECRET_FIELDS:
        if args.values != ["-"]:
            print(f"Not saved: {args.key}: {SECRET_HINT}", file=sys.stderr)
            return EXIT_USAGE
        args.field = args.key
        return cmd_config_set_secret(args)
    paths = cli_paths(args)
    store = secret_store()
    loaded = load_config_report(paths.config_file, secrets=store)
    # A secret the keyring withheld does not block another setting: saving keeps its entry.
    skip = {args.key} | loaded.unread_secrets
    others = [p for p in (loaded.problem.fields if loaded.problem else ()) if p.name not in skip]
    if loaded.problem is not None and (others or not loaded.problem.fields):
        print(loaded.problem.describe(), file=sys.stderr)
        print("Not saved: fix the settings above first (`plexsync config check`).", file=sys.stderr)
        return EXIT_FAIL
    try:
        value = parse_setting(args.key, args.values)
        config = loaded.config.with_changes(**{args.key: value})
    except SettingError as exc:
        print(f"Not saved: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as exc:
        _print_invalid(exc)
        return EXIT_USAGE
    save_config(config, paths.config_file, secrets=store)
    print(f"{args.key} saved in {paths.config_file}.")
    _note_unread(loaded)
    _note_running_engine(paths.control_file)
    return EXIT_OK


def _note_unread(loaded: ConfigLoad) -> None:
    from engine.config.secrets import keyring_hint

    hint = keyring_hint(loaded.keyring_problem)
    if hint is not None:
        print(f"Note: {hint}", file=sys.stderr)


def _note_running_engine(control_file: Path) -> None:
    from engine.control.client import engine_is_running

    if control_file.exists() and engine_is_running(control_file):
        print("The running engine (tray or `plexsync run`) uses the change after a restart.")
