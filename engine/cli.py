"""`plexsync`: the headless twin of the tray app. Every state change goes through a running
engine when there is one (tray or `plexsync run`), so nothing happens behind its back."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import __version__
from engine.breaker import CircuitBreaker
from engine.cli_common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    cli_paths,
    fmt_time,
    open_store,
    secret_store,
    through_engine,
)
from engine.cli_config import add_config_parser
from engine.cli_dlq import add_dlq_parser
from engine.config import PlexSyncConfig, load_config_report
from engine.control import ControlError, call_running_engine
from engine.errors import SyncError
from engine.events import EngineStatus
from engine.logfile import CLI_LOG_FILE, setup_logging
from engine.masking import SecretMasker, mask_text
from engine.paths import AppPaths
from engine.secret_migration import move_secrets_to_store
from engine.status import read_status, status_to_dict
from engine.store import JobStore
from engine.store_open import DatabaseCorruptError, set_aside, store_error
from engine.sync import SyncEngine

if TYPE_CHECKING:
    from engine.runtime import EngineRuntime

logger = logging.getLogger("plexsync")

STOP_GRACE = 2.0


# --- run -------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    paths = cli_paths(args)
    config = _runnable_config(paths)
    if config is None:
        return EXIT_USAGE
    try:
        status = call_running_engine(paths.control_file, "status", timeout=3.0)
    except ControlError:
        status = None
    if status is not None:
        print("An engine is already running for this config (the tray or `plexsync run`).")
        return EXIT_FAIL
    args.masker.set_secrets(config.secrets())
    log_file = setup_logging(
        paths.log_dir, args.masker, level=args.log_level, file_name=CLI_LOG_FILE
    )
    logger.info("plexsync %s starting; log file %s", __version__, log_file)
    move_secrets_to_store(paths.config_file, secret_store())  # first start after an upgrade
    runtime = _open_runtime(paths, config, args)
    engine = runtime.engine
    done = threading.Event()
    result: list[int] = []

    def work() -> None:
        try:
            result.append(_run_once(engine) if args.once else _run_forever(engine))
        except Exception:
            logger.exception("The engine stopped on an unexpected error")
            result.append(EXIT_FAIL)
        finally:
            done.set()

    def on_signal(signum: int, frame: object) -> None:
        logger.info("Stopping (signal %d)", signum)
        engine.request_stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=work, name="plexsync-engine", daemon=True)
    thread.start()
    try:
        while not done.wait(0.2):
            if engine.stopping:
                # The job in hand gets a short grace; an unfinished one is queued again at start.
                done.wait(STOP_GRACE)
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not done.is_set():
        logger.warning("The job in hand did not finish in time; it will be retried at next start")
        return EXIT_OK
    # The work is over; the thread may still be closing its own store connection.
    thread.join(STOP_GRACE)
    runtime.close()
    return result[0] if result else EXIT_FAIL


def _runnable_config(paths: AppPaths) -> PlexSyncConfig | None:
    """The config `run` may use, or None after saying why: a bad value is never guessed at."""
    loaded = load_config_report(paths.config_file, secrets=secret_store())
    for warning in loaded.warnings():
        print(f"Warning: {warning}", file=sys.stderr)
    if loaded.problem is not None:
        print(loaded.problem.describe(), file=sys.stderr)
        print(
            "plexsync run did not start: fix the settings above (`plexsync config check` "
            "checks the file), or save them from the tray's settings.",
            file=sys.stderr,
        )
        return None
    if not loaded.config.is_configured:
        print(
            f"Plex is not configured: set plex_url and plex_token in {paths.config_file}",
            file=sys.stderr,
        )
        return None
    return loaded.config


def _open_runtime(
    paths: AppPaths, config: PlexSyncConfig, args: argparse.Namespace
) -> EngineRuntime:
    """The engine's runtime; `--reset-database` sets a damaged database aside first."""
    from engine.runtime import EngineRuntime

    def open_it() -> EngineRuntime:
        return EngineRuntime.open(
            paths,
            config,
            serve_control=not args.once,
            idle_probes=not args.once,
            live_updates=not args.once,
        )

    try:
        return open_it()
    except DatabaseCorruptError as exc:
        if not args.reset_database:
            raise
        kept = set_aside(exc.path)
        logger.warning("The damaged database was kept as %s; starting an empty queue", kept)
        return open_it()


def _run_forever(engine: SyncEngine) -> int:
    logger.info("PlexSync engine running; Ctrl+C to stop")
    engine.run()
    return EXIT_OK


def _run_once(engine: SyncEngine, *, sleep: Callable[[float], object] | None = None) -> int:
    """Pull every Stash change, process every ready job, then report what is left."""
    wake = threading.Event()
    engine.add_wake_callback(wake.set)
    wait = sleep or wake.wait  # a stop request wakes it
    engine.sync_now()
    while not engine.stopping:
        delay = engine.tick(budget=2.0)
        status: EngineStatus = engine.status()
        if status.auth_error or status.engine_error or status.breaker_state.value == "open":
            break
        if delay > 0 and status.pending - status.waiting <= 0 and status.in_progress == 0:
            break
        if delay > 0 and not engine.stopping:
            wait(delay)  # e.g. Plex unreachable: waiting for it costs no CPU
            wake.clear()
    status = engine.status()
    left = status.pending + status.in_progress
    summary = (
        f"pending {status.pending} (waiting for a retry {status.waiting}), "
        f"in the DLQ {status.dlq}, circuit breaker {status.breaker_state.value}"
    )
    if status.auth_error:
        summary += f", {status.auth_error}"
    if status.engine_error:
        summary += f", {status.engine_error}"
    if status.last_error:
        summary += f", last error: {status.last_error}"
    clean = not (status.auth_error or status.last_error or status.engine_error)
    if left == 0 and clean:
        print(f"Done: nothing left to sync ({summary}).")
        return EXIT_OK
    print(f"Not finished: {summary}.", file=sys.stderr)
    return EXIT_FAIL


# --- status and breaker ----------------------------------------------------------------------


def _offline_status(paths: AppPaths) -> dict[str, Any]:
    """Status read from the files when no engine runs (auth problems are not known then)."""
    store = open_store(paths)
    try:
        loaded = load_config_report(paths.config_file, secrets=secret_store())
        paused_until = store.get_value("paused_until")
        timed_pause = isinstance(paused_until, int | float) and paused_until > time.time()
        status = read_status(
            store,
            CircuitBreaker(storage=store).snapshot(),
            now=time.time(),
            configured=loaded.config.is_configured,
            paused=timed_pause,
            paused_until=float(paused_until) if timed_pause else None,
            running=False,
        )
        return status_to_dict(status)
    finally:
        store.close()


def cmd_status(args: argparse.Namespace) -> int:
    paths = cli_paths(args)
    try:
        data = call_running_engine(paths.control_file, "status", timeout=5.0)
    except ControlError:
        data = _offline_status(paths)
    if args.json:
        print(json.dumps(data, indent=2))
        return EXIT_OK
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
    run.set_defaults(func=cmd_run)

    status = sub.add_parser("status", parents=[common], help="breaker, queue and DLQ at a glance")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    add_dlq_parser(sub, common)

    breaker = sub.add_parser("breaker", parents=[common], help="the circuit breaker")
    breaker_sub = breaker.add_subparsers(dest="breaker_command", metavar="ACTION", required=True)
    breaker_sub.add_parser("reset", parents=[common], help="close it now").set_defaults(
        func=cmd_breaker_reset
    )

    sub.add_parser(
        "resume", parents=[common], help="end a pause, also one for rejected credentials"
    ).set_defaults(func=cmd_resume)

    add_config_parser(sub, common)

    from engine.cli_check import add_check_parser
    from engine.sim.cli import add_sim_parser

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
    try:
        code: int = args.func(args)
    except ControlError as exc:
        print(f"The running engine refused: {mask_text(str(exc))}", file=sys.stderr)
        return EXIT_FAIL
    except SyncError as exc:
        print(args.masker.mask(f"{exc.title}: {exc.message}"), file=sys.stderr)
        return EXIT_FAIL
    except sqlite3.Error as exc:  # a write that failed after the store opened
        error = store_error(cli_paths(args).database, exc)
        if error is None:
            raise
        print(f"{error.title}: {error.message}", file=sys.stderr)
        return EXIT_FAIL
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"Could not use{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAIL
    return code


if __name__ == "__main__":
    sys.exit(main())
