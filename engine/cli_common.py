"""What every `plexsync` command shares: exit codes, paths, the store, and the running engine."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any

from engine.control import ControlError, call_running_engine
from engine.paths import AppPaths
from engine.store import JobStore

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def fmt_time(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def cli_paths(args: argparse.Namespace) -> AppPaths:
    return AppPaths.resolve(args.config_dir)


def open_store(paths: AppPaths, *, recover: bool = False) -> JobStore:
    """Readers never recover jobs: an engine may be running and own them."""
    paths.ensure()
    return JobStore(paths.database, recover=recover)


def through_engine(
    paths: AppPaths, command: str, args: dict[str, Any], offline: Callable[[JobStore], Any]
) -> Any:
    """Ask the running engine; with none running, act on the store directly."""
    try:
        return call_running_engine(paths.control_file, command, args)
    except ControlError as exc:
        if str(exc) != "no running engine":
            raise
    store = open_store(paths, recover=True)  # no engine runs: jobs left in progress are stale
    try:
        return offline(store)
    finally:
        store.close()
