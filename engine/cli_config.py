"""`plexsync config ...`: where the config is, what it holds (secrets masked), and is it valid;
`set-secret` stores a token or key through the same secret store the tray uses."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from pydantic import ValidationError

from engine.cli_common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, cli_paths, secret_store
from engine.config import ConfigLoad, field_problems, fix_permissions, load_config_report
from engine.config import save_config as write_config
from engine.secret_store import FILE_STORAGE, SECRET_FIELDS, SecretStore, storage_text


def cmd_config_path(args: argparse.Namespace) -> int:
    print(cli_paths(args).config_file)
    return EXIT_OK


def _report(loaded: ConfigLoad) -> None:
    """Problems and warnings to stderr, so stdout stays the answer."""
    for warning in loaded.warnings():
        print(f"Warning: {warning}", file=sys.stderr)
    if loaded.problem is not None:
        print(loaded.problem.describe(), file=sys.stderr)


def cmd_config_show(args: argparse.Namespace) -> int:
    paths = cli_paths(args)
    store = secret_store()
    loaded = load_config_report(paths.config_file, secrets=store)
    _report(loaded)
    if loaded.config.has_secrets or loaded.in_store:
        print(f"Secrets are kept in {_where_kept(loaded, store)}.", file=sys.stderr)
    print(json.dumps(loaded.config.masked(), indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_config_check(args: argparse.Namespace) -> int:
    paths = cli_paths(args)
    loaded = load_config_report(paths.config_file, secrets=secret_store())
    _report(loaded)
    if loaded.problem is not None:
        return EXIT_FAIL
    if not loaded.existed:
        print(f"No config file at {paths.config_file}; defaults apply (Plex is not configured).")
        return EXIT_FAIL
    state = "ready" if loaded.config.is_configured else "Plex URL or token missing"
    print(f"{paths.config_file}: valid ({state}).")
    return EXIT_OK if loaded.config.is_configured else EXIT_FAIL


def cmd_config_fix_permissions(args: argparse.Namespace) -> int:
    path = cli_paths(args).config_file
    if not path.exists():
        print(f"No config file at {path}.", file=sys.stderr)
        return EXIT_FAIL
    message = fix_permissions(path)
    print(message)
    return EXIT_FAIL if path.is_symlink() else EXIT_OK


def cmd_config_set_secret(args: argparse.Namespace) -> int:
    """Read a token or key (prompted without echo, or from stdin) and save it."""
    paths = cli_paths(args)
    store = secret_store()
    loaded = load_config_report(paths.config_file, secrets=store)
    if loaded.problem is not None:
        _report(loaded)
        print("Fix the settings above first (`plexsync config check`).", file=sys.stderr)
        return EXIT_FAIL
    prompt = f"{args.field}: "
    value = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline()
    value = value.rstrip("\r\n")
    try:
        empty = None if args.field == "stash_api_key" else ""
        config = loaded.config.with_changes(**{args.field: value or empty})
    except ValidationError as exc:
        for problem in field_problems(exc):
            print(f"Not saved: {problem.describe()}", file=sys.stderr)
        return EXIT_USAGE
    write_config(config, paths.config_file, secrets=store)
    if not value:
        print(f"{args.field} cleared.")
        return EXIT_OK
    saved = load_config_report(paths.config_file, secrets=store)
    print(f"{args.field} saved in {_where_kept(saved, store, args.field)}.")
    return EXIT_OK


def _where_kept(loaded: ConfigLoad, store: SecretStore, field: str | None = None) -> str:
    """The keyring when the secret(s) came from it, else the file and why not the keyring."""
    kept = loaded.in_store if field is None else tuple(f for f in loaded.in_store if f == field)
    if kept:
        return store.name
    reason = store.unavailable()
    return FILE_STORAGE if reason is None else storage_text(store)


def add_config_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The `config` command and its actions."""
    config = sub.add_parser("config", parents=[common], help="the configuration file")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_sub.add_parser("path", parents=[common], help="where it is").set_defaults(
        func=cmd_config_path
    )
    config_sub.add_parser("show", parents=[common], help="print it, secrets masked").set_defaults(
        func=cmd_config_show
    )
    config_sub.add_parser("check", parents=[common], help="validate it").set_defaults(
        func=cmd_config_check
    )
    config_sub.add_parser(
        "fix-permissions", parents=[common], help="make it readable by you only (0600)"
    ).set_defaults(func=cmd_config_fix_permissions)
    set_secret = config_sub.add_parser(
        "set-secret",
        parents=[common],
        help="store the Plex token or Stash API key (read from stdin, never from the command line)",
    )
    set_secret.add_argument("field", choices=SECRET_FIELDS)
    set_secret.set_defaults(func=cmd_config_set_secret)
