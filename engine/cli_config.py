"""`plexsync config ...`: where the config is, what it holds (secrets masked), and is it valid."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from engine.cli_common import EXIT_FAIL, EXIT_OK, cli_paths
from engine.config import ConfigLoad, fix_permissions, load_config_report


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
    loaded = load_config_report(paths.config_file)
    _report(loaded)
    print(json.dumps(loaded.config.masked(), indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_config_check(args: argparse.Namespace) -> int:
    paths = cli_paths(args)
    loaded = load_config_report(paths.config_file)
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
