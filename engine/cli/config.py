"""`plexsync config ...`: where the config is, what it holds (secrets masked), and is it valid;
`set-secret` stores a token or key through the same secret store the tray uses."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

from engine.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, cli_paths, lazy, secret_store
from engine.config.peek import EXPOSED_WARNING
from engine.config.secret_store import FILE_STORAGE, SECRET_FIELDS, SecretStore, storage_text

if TYPE_CHECKING:
    from engine.config.file import ConfigLoad

# engine.config.file (pydantic) is imported by each command, not here: `plexsync status` builds this
# parser too and must start fast (bench/cli_startup_bench.py).


def cmd_config_path(args: argparse.Namespace) -> int:
    print(cli_paths(args).config_file)
    return EXIT_OK


def _report(loaded: ConfigLoad) -> None:
    """Problems and warnings to stderr, so stdout stays the answer (`plexsync` itself has
    already warned about a config others can read)."""
    for warning in loaded.warnings():
        if warning == EXPOSED_WARNING:
            continue
        print(f"Warning: {warning}", file=sys.stderr)
    if loaded.problem is not None:
        print(loaded.problem.describe(), file=sys.stderr)
    from engine.config.secrets import keyring_hint

    hint = keyring_hint(loaded.keyring_problem)
    if hint is not None:
        print(hint, file=sys.stderr)


def cmd_config_show(args: argparse.Namespace) -> int:
    from engine.config.file import load_config_report

    paths = cli_paths(args)
    store = secret_store()
    loaded = load_config_report(paths.config_file, secrets=store)
    _report(loaded)
    if loaded.config.has_secrets or loaded.in_store:
        print(f"Secrets are kept in {_where_kept(loaded, store)}.", file=sys.stderr)
    print(json.dumps(loaded.config.masked(), indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_config_check(args: argparse.Namespace) -> int:
    from engine.config.file import load_config_report

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
    from engine.config.file import fix_permissions

    path = cli_paths(args).config_file
    if not path.exists():
        print(f"No config file at {path}.", file=sys.stderr)
        return EXIT_FAIL
    message = fix_permissions(path)
    print(message)
    return EXIT_FAIL if path.is_symlink() else EXIT_OK


def cmd_config_set_secret(args: argparse.Namespace) -> int:
    """Read a token or key (prompted without echo, or from stdin) and save it."""
    from pydantic import ValidationError

    from engine.config.file import field_problems, load_config_report
    from engine.config.file import save_config as write_config

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
    cleared = frozenset() if value else frozenset({args.field})  # the user asked for empty
    write_config(config, paths.config_file, secrets=store, cleared_secrets=cleared)
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
    ).set_defaults(func=cmd_config_fix_permissions, logs=True, fixes_exposure=True)
    set_secret = config_sub.add_parser(
        "set-secret",
        parents=[common],
        help="store the Plex token or Stash API key (read from stdin, never from the command line)",
    )
    set_secret.add_argument("field", choices=SECRET_FIELDS)
    set_secret.set_defaults(func=cmd_config_set_secret, logs=True)
    _add_setup_parsers(config_sub, common)


def _add_setup_parsers(config_sub: Any, common: argparse.ArgumentParser) -> None:
    """`config init`, `config set` and `config test` (engine/cli/setup.py)."""
    init = config_sub.add_parser(
        "init",
        parents=[common],
        help="ask for (or take) the Plex and Stash addresses and credentials, test, save",
    )
    init.add_argument("--plex-url", metavar="URL", help="e.g. http://192.168.1.10:32400")
    init.add_argument(
        "--plex-token", metavar="-", help="`-`: read the X-Plex-Token from stdin (first line)"
    )
    init.add_argument("--stash-url", metavar="URL", help="default: http://localhost:9999")
    init.add_argument(
        "--stash-api-key",
        metavar="-",
        help="`-`: read the API key from stdin (the line after the token)",
    )
    init.add_argument(
        "--force",
        action="store_true",
        help="replace an existing config's connection settings (the others are kept)",
    )
    init.add_argument("--no-test", action="store_true", help="save without testing")
    init.set_defaults(func=lazy("engine.cli.setup", "cmd_config_init"), logs=True)

    setter = config_sub.add_parser(
        "set",
        parents=[common],
        help="change one setting (validated); lists take several values",
        description="Examples: `config set poll_interval 60`, `config set sync_poster off`, "
        "`config set path_mappings /data=/media /mnt/b=/media/b` (no value clears a list; "
        "JSON works too), `config set plex_token -` (reads it from stdin).",
    )
    setter.add_argument("key", metavar="KEY", help="a setting, as `plexsync config show` names it")
    setter.add_argument("values", metavar="VALUE", nargs="*")
    setter.set_defaults(func=lazy("engine.cli.setup", "cmd_config_set"), logs=True)

    config_sub.add_parser(
        "test", parents=[common], help="test the connections to Plex and Stash"
    ).set_defaults(func=lazy("engine.cli.setup", "cmd_config_test"))
