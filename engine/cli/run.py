"""`plexsync run`: the engine in the foreground, until a signal or (`--once`) until done."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine import __version__
from engine.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, cli_paths, secret_store
from engine.config.file import PlexSyncConfig, load_config_report
from engine.config.keyring_memo import KEYRING_MEMO, RememberedProbe
from engine.config.peek import EXPOSED_WARNING
from engine.config.secret_migration import move_secrets_to_store
from engine.config.secrets import keyring_hint
from engine.control.client import ControlError, call_running_engine
from engine.events import EngineStatus
from engine.paths import AppPaths
from engine.runtime.logs import CLI_LOG_FILE, setup_logging
from engine.store.open import DatabaseCorruptError, set_aside
from engine.sync.engine import SyncEngine

if TYPE_CHECKING:
    from engine.config.secret_store import SecretStore
    from engine.runtime.compose import EngineRuntime

logger = logging.getLogger("plexsync")

STOP_GRACE = 2.0


def cmd_run(args: argparse.Namespace) -> int:
    paths = cli_paths(args)
    store = secret_store()  # one per run: a keyring that hangs costs one time-out, not one a call
    config = _runnable_config(paths, store)
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
    # First start after an upgrade; "no keyring here" is remembered for an hour (keyring_memo).
    keyring = RememberedProbe(store, paths.data_dir / KEYRING_MEMO)
    move_secrets_to_store(paths.config_file, keyring)
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


def _runnable_config(paths: AppPaths, store: SecretStore) -> PlexSyncConfig | None:
    """The config `run` may use, or None after saying why: a bad value is never guessed at."""
    loaded = load_config_report(paths.config_file, secrets=store)
    for warning in loaded.warnings():
        if warning != EXPOSED_WARNING:  # `plexsync` has said it already
            print(f"Warning: {warning}", file=sys.stderr)
    if loaded.problem is not None:
        print(loaded.problem.describe(), file=sys.stderr)
        hint = keyring_hint(loaded.keyring_problem)
        if hint is not None:
            print(hint, file=sys.stderr)
        print(
            "plexsync run did not start: fix the settings above (`plexsync config check` "
            "checks the file), or save them from the tray's settings.",
            file=sys.stderr,
        )
        return None
    if not loaded.config.is_configured:
        print(
            "Plex is not configured: run `plexsync config init` (or set plex_url and "
            f"plex_token in {paths.config_file})",
            file=sys.stderr,
        )
        return None
    return loaded.config


def _open_runtime(
    paths: AppPaths, config: PlexSyncConfig, args: argparse.Namespace
) -> EngineRuntime:
    """The engine's runtime; `--reset-database` sets a damaged database aside first."""
    from engine.runtime.compose import EngineRuntime

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
    did = engine.counts.summary()  # e.g. "synced 12, unchanged 1,988, failed 1 (in the DLQ)"
    state = (
        f"pending {status.pending:,} (waiting for a retry {status.waiting:,}), "
        f"in the DLQ {status.dlq:,}, circuit breaker {status.breaker_state.value}"
    )
    problems = [p for p in (status.auth_error, status.engine_error) if p]
    if status.last_error:
        problems.append(f"last error: {status.last_error}")
    logger.info("Run finished: %s; %s", did, state)
    if left == 0 and not problems:
        print(f"Done: {did}.")
        return EXIT_OK
    print(f"Not finished: {did}; {', '.join([state, *problems])}.", file=sys.stderr)
    return EXIT_FAIL
