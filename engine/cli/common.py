"""What every `plexsync` command shares: exit codes, paths, the store, and the running engine."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.paths import AppPaths

if (
    TYPE_CHECKING
):  # imported where used: `plexsync status` must start fast (bench/cli_startup_bench.py)
    from engine.config.secret_store import SecretStore
    from engine.store.jobs import JobStore

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
MAX_ROW_ID = 2**63 - 1  # SQLite's largest INTEGER
MAX_DAYS = 36_500.0
MAX_LIMIT = 100_000
_WHOLE = re.compile(r"-?[0-9]{1,30}")


def _whole_number(text: str, low: int, high: int, what: str) -> int:
    text = text.strip()
    if not _WHOLE.fullmatch(text):  # ASCII digits only: int() also takes "１" and "1_000"
        raise argparse.ArgumentTypeError(f"{what} must be a whole number, not {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{what} must be between {low} and {high}")
    return value


def entry_id(text: str) -> int:
    """A DLQ entry id as typed: a positive whole number SQLite can hold."""
    return _whole_number(text, 1, MAX_ROW_ID, "an entry id")


def row_limit(text: str) -> int:
    return _whole_number(text, 1, MAX_LIMIT, "--limit")


def row_offset(text: str) -> int:
    return _whole_number(text, 0, MAX_ROW_ID, "--offset")


def days(text: str) -> float:
    """A positive, finite number of days (-1, nan and inf would match every entry)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"days must be a number, not {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(
            f"days must be more than 0 and at most {MAX_DAYS:g} (to delete everything, "
            "use `plexsync dlq delete --all`)"
        )
    return value


def fmt_time(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A command whose module is imported only when it runs."""

    def command(args: argparse.Namespace) -> int:
        function: Callable[[argparse.Namespace], int] = getattr(
            importlib.import_module(module), name
        )
        return function(args)

    return command


def cli_paths(args: argparse.Namespace) -> AppPaths:
    return AppPaths.resolve(args.config_dir)


def secret_store() -> SecretStore:
    """The system keyring (keyring's own choice of backend; PYTHON_KEYRING_BACKEND overrides)."""
    from engine.config.secret_store import KeyringStore

    return KeyringStore()


def open_store(paths: AppPaths, *, recover: bool = False) -> JobStore:
    """Readers never recover jobs: an engine may be running and own them."""
    from engine.store.open import open_job_store

    paths.ensure()
    return open_job_store(paths.database, recover=recover)


def through_engine(
    paths: AppPaths, command: str, args: dict[str, Any], offline: Callable[[JobStore], Any]
) -> Any:
    """Ask the running engine; with none running, act on the store directly (holding the
    engine lock, so no engine can start meanwhile)."""
    from engine.control.client import ControlError, EngineNotRunningError, call_running_engine
    from engine.runtime.lock import EngineBusyError, EngineLock

    try:
        return call_running_engine(paths.control_file, command, args)
    except EngineNotRunningError:
        pass
    paths.ensure()
    try:
        lock = EngineLock(paths.data_dir).acquire()
    except EngineBusyError as exc:
        raise ControlError(
            "an engine holds this data dir but its control channel did not answer; try again"
        ) from exc
    with lock:
        store = open_store(paths, recover=True)  # no engine runs: jobs in progress are stale
        try:
            return offline(store)
        finally:
            store.close()
