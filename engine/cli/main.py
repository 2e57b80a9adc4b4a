"""`plexsync`: the headless twin of the tray app. Every state change goes through a running
engine when there is one (tray or `plexsync run`), so nothing happens behind its back.

Each command imports what it needs when it runs: `plexsync status` must answer in well under
0.2 s (bench/cli_startup_bench.py), so plexapi, requests, graphql-core and pydantic stay out of
the way of the commands that do not use them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import __version__
from engine.cli.check import add_check_parser
from engine.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    cli_paths,
    fmt_time,
    lazy,
    open_store,
    through_engine,
)
from engine.cli.config import add_config_parser
from engine.cli.dlq import add_dlq_parser
from engine.cli.service import add_service_parser
from engine.config.peek import EXPOSED_WARNING, exposes_secret, looks_configured
from engine.errors import SyncError
from engine.masking import SecretMasker, mask_text
from engine.paths import AppPaths
from engine.runtime.logs import COMMANDS_LOG_FILE, setup_logging
from plexsync_sim.cli import add_sim_parser

if TYPE_CHECKING:
    from engine.store.jobs import JobStore

logger = logging.getLogger("plexsync")

NOT_CONFIGURED = "not configured: run `plexsync config init` (or open the tray's settings)"


# --- status and breaker ----------------------------------------------------------------------


def _offline_status(paths: AppPaths) -> dict[str, Any]:
    """Status read from the files when no engine runs (auth problems are not known then)."""
    from engine.breaker import CircuitBreaker
    from engine.sync.status import read_status, status_to_dict

    store = open_store(paths)
    try:
        paused_until = store.get_value("paused_until")
        timed_pause = isinstance(paused_until, int | float) and paused_until > time.time()
        status = read_status(
            store,
            CircuitBreaker(storage=store).snapshot(),
            now=time.time(),
            configured=looks_configured(paths.config_file),  # no keyring access: fast
            paused=timed_pause,
            paused_until=float(paused_until) if timed_pause else None,
            running=False,
        )
        return status_to_dict(status)
    finally:
        store.close()


def _engine_status(paths: AppPaths) -> dict[str, Any] | None:
    """The running engine's status, or None when none runs (no control file: no import)."""
    if not paths.control_file.exists():
        return None
    from engine.control.client import ControlError, call_running_engine

    try:
        data: dict[str, Any] = call_running_engine(paths.control_file, "status", timeout=5.0)
    except ControlError:
        return None
    return data


def cmd_status(args: argparse.Namespace) -> int:
    paths = cli_paths(args)
    data = _engine_status(paths) or _offline_status(paths)
    if args.json:
        print(json.dumps(data, indent=2))
        return EXIT_OK
    if not data["configured"]:
        print(f"Config:          {NOT_CONFIGURED}")
    breaker = data["breaker"]
    print(f"Engine:          {'running' if data['engine_running'] else 'not running'}")
    line = breaker["state"].replace("_", "-")
    if breaker["retry_at"]:
        line += f" (next try {fmt_time(breaker['retry_at'])})"
    print(f"Circuit breaker: {line}")
    queue = data["queue"]
    print(f"Queue:           {queue['pending']} pending, {queue['in_progress']} in progress")
    print(f"Dead-letter:     {data['dlq']['count']}")
    print(f"Last sync:       {fmt_time(data['last_sync_at'])}")
    if data["auth_error"]:
        print(f"Problem:         {data['auth_error']}")
    if data["paused"]:
        print("Paused:          yes")
    return EXIT_OK


def cmd_breaker_reset(args: argparse.Namespace) -> int:
    from engine.breaker import CircuitBreaker

    def offline(store: JobStore) -> None:
        CircuitBreaker(storage=store).reset()

    through_engine(cli_paths(args), "breaker_reset", {}, offline)
    print("Circuit breaker reset: closed.")
    return EXIT_OK


def cmd_resume(args: argparse.Namespace) -> int:
    """End a pause, including one for rejected credentials (they are checked again at once)."""

    def offline(store: JobStore) -> None:
        store.set_value("paused_until", None)

    through_engine(cli_paths(args), "resume", {}, offline)
    print("Syncing resumed.")
    return EXIT_OK


# --- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="keep config, data and logs in DIR instead of the per-user directories",
    )
    parser = argparse.ArgumentParser(
        prog="plexsync",
        description="Keep Plex metadata in step with Stash (headless twin of PlexSync Tray).",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"plexsync {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="run the sync engine in the foreground")
    run.add_argument("--once", action="store_true", help="sync what is there, then exit")
    run.add_argument(
        "--reset-database",
        action="store_true",
        help="if the queue database is damaged, keep it aside as a .corrupt file and start empty",
    )
    run.set_defaults(func=lazy("engine.cli.run", "cmd_run"))

    status = sub.add_parser("status", parents=[common], help="breaker, queue and DLQ at a glance")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    add_dlq_parser(sub, common)

    breaker = sub.add_parser("breaker", parents=[common], help="the circuit breaker")
    breaker_sub = breaker.add_subparsers(dest="breaker_command", metavar="ACTION", required=True)
    breaker_sub.add_parser("reset", parents=[common], help="close it now").set_defaults(
        func=cmd_breaker_reset, logs=True
    )

    sub.add_parser(
        "resume", parents=[common], help="end a pause, also one for rejected credentials"
    ).set_defaults(func=cmd_resume, logs=True)

    add_config_parser(sub, common)

    add_service_parser(sub, common)
    add_check_parser(sub, common)
    add_sim_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "config_dir"):
        args.config_dir = None
    args.log_level = logging.DEBUG if args.verbose else logging.INFO
    args.masker = SecretMasker()
    setup_logging(None, args.masker, level=args.log_level)  # stderr, masked; `run` adds a file
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_USAGE
    if args.config_dir is not None and Path(args.config_dir).expanduser().is_file():
        print(f"--config-dir {args.config_dir} is a file; give a directory.", file=sys.stderr)
        return EXIT_USAGE
    if args.command != "sim":
        _before_command(args)
    try:
        code: int = args.func(args)
    except SyncError as exc:
        print(args.masker.mask(f"{exc.title}: {exc.message}"), file=sys.stderr)
        return EXIT_FAIL
    except sqlite3.Error as exc:  # a write that failed after the store opened
        from engine.store.open import store_error

        error = store_error(cli_paths(args).database, exc)
        if error is None:
            raise
        print(f"{error.title}: {error.message}", file=sys.stderr)
        return EXIT_FAIL
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"Could not use{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAIL
    except Exception as exc:
        if not _is_control_error(exc):
            raise
        print(f"The running engine refused: {mask_text(str(exc))}", file=sys.stderr)
        return EXIT_FAIL
    return code


def _before_command(args: argparse.Namespace) -> None:
    """Warn once about a config others can read; a state-changing command logs to a file."""
    paths = cli_paths(args)
    if not getattr(args, "fixes_exposure", False) and exposes_secret(paths.config_file):
        print(f"Warning: {EXPOSED_WARNING}", file=sys.stderr)
    if getattr(args, "logs", False):
        # Its own file: `plexsync run` may be rotating plexsync.log at this very moment.
        quiet = None if args.verbose else logging.WARNING  # the terminal gets the command's words
        setup_logging(
            paths.log_dir,
            args.masker,
            level=args.log_level,
            file_name=COMMANDS_LOG_FILE,
            console_level=quiet,
        )
        words = [w for w in (args.command, *_actions(args)) if w]
        logger.info("plexsync %s: %s", __version__, " ".join(words))


def _actions(args: argparse.Namespace) -> list[str]:
    """The sub-command's name (`dlq retry`, `config set`), never a value that could be secret."""
    return [str(v) for k, v in vars(args).items() if k.endswith("_command") and v]


def _is_control_error(exc: Exception) -> bool:
    control = sys.modules.get("engine.control.client")  # only a command that used it can raise it
    return control is not None and isinstance(exc, control.ControlError)


if __name__ == "__main__":
    sys.exit(main())
