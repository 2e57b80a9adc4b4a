"""`plexsync check [--json] [--fix]`: the library check from the command line.

With an engine running (the tray or `plexsync run`) the check runs inside it and this command
waits for the result; with none, it runs here, reading Plex and Stash and writing nothing to
Plex. `--fix` queues every finding as a normal job (the engine syncs them; offline, the next
`plexsync run` does). Exit status: 0 when nothing differs (or everything found was queued),
1 when differences are left or the check failed, 2 when Plex is not configured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from engine.cli.common import open_store
from engine.clock import SYSTEM_CLOCK
from engine.errors import SyncError
from engine.paths import AppPaths
from engine.runtime.lock import EngineBusyError, EngineLock
from engine.store.checks import CheckKind, CheckStore, CheckSummary, Finding

if TYPE_CHECKING:  # the heavy modules load when `check` runs, not for every `plexsync` command
    from engine.config.file import PlexSyncConfig

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
WAIT_LIMIT = 6 * 3600.0  # a running engine's check of a very large library
POLL = 0.5
LABELS = {
    CheckKind.NOT_IN_PLEX: "not in Plex",
    CheckKind.NEVER_SYNCED: "never synced",
    CheckKind.POSSIBLE_MATCH: "possible match (confirm in the DLQ)",
    CheckKind.DRIFTED: "drifted",
    CheckKind.ORPHAN: "orphan",
    CheckKind.DLQ_RESOLVED: "DLQ cause gone",
    CheckKind.FOLLOW_UP_DROPPED: "follow-ups given up",
}


def add_check_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Hook `check` into the `plexsync` parser."""
    check = sub.add_parser("check", parents=[common], help="compare Stash with Plex and report")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.add_argument("--fix", action="store_true", help="queue every finding as a sync job")
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    from engine.config.file import load_config_report
    from engine.control.client import EngineNotRunningError, call_running_engine

    paths = AppPaths.resolve(args.config_dir)
    loaded = load_config_report(paths.config_file)
    if loaded.problem is not None:
        print(loaded.problem.describe(), file=sys.stderr)
    config = loaded.config
    if not config.is_configured:
        print(f"Plex is not configured: run `plexsync config init` (or edit {paths.config_file})")
        return EXIT_USAGE
    paths.ensure()
    checks = CheckStore(paths.database)
    try:
        try:
            run_id = int(call_running_engine(paths.control_file, "check_now", {}))
        except EngineNotRunningError:
            fixed = _here(paths, checks, config, fix=args.fix)
        else:
            fixed = _through_engine(paths, checks, run_id, fix=args.fix)
        summary = checks.last_summary()
        if summary is None:
            return EXIT_FAIL  # the failure was printed where it happened
        findings = checks.findings(run_id=summary.run_id, limit=1_000_000)
    finally:
        checks.close()
    _print(summary, findings, fixed, as_json=args.json)
    return EXIT_OK if not findings else EXIT_FAIL


def _through_engine(paths: AppPaths, checks: CheckStore, run_id: int, *, fix: bool) -> int | None:
    from engine.control.client import ControlError, call_running_engine

    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        last = checks.last_summary()
        if last is not None and last.run_id >= run_id:
            break
        time.sleep(POLL)
    else:
        raise ControlError("the check did not finish in time")
    if not fix:
        return None
    return int(call_running_engine(paths.control_file, "check_fix", {"ids": None}))


def _here(paths: AppPaths, checks: CheckStore, config: PlexSyncConfig, *, fix: bool) -> int | None:
    """No engine runs: check here, holding the engine lock so none starts meanwhile."""
    from engine.control.client import ControlError

    try:
        lock = EngineLock(paths.data_dir).acquire()
    except EngineBusyError as exc:
        raise ControlError(
            "an engine holds this data dir but its control channel did not answer; try again"
        ) from exc
    with lock:
        return _check_here(paths, checks, config, fix=fix)


def _check_here(
    paths: AppPaths, checks: CheckStore, config: PlexSyncConfig, *, fix: bool
) -> int | None:
    from engine.check.library import LibraryCheck
    from engine.plex.client import PlexClient, set_client_identity
    from engine.runtime.compose import client_identifier
    from engine.stash.client import StashClient

    store = open_store(paths, recover=True)  # no engine runs: stale claims are ours
    set_client_identity(client_identifier(store))
    plex, stash = PlexClient(config), StashClient(config)
    check = LibraryCheck(checks, store, SYSTEM_CLOCK)
    try:
        run_id = check.start()
        clock = SYSTEM_CLOCK
        while check.step(plex=plex, stash=stash, config=config, deadline=clock.monotonic() + 1):
            pass
        last = checks.last_summary()
        if last is None or last.run_id != run_id:
            raise SyncError("The check did not finish")
        return check.fix(None) if fix else None
    except SyncError as exc:
        shown = f"{exc.title} ({exc.message})" if exc.message else exc.title
        print(f"The library check stopped: {shown}; run it again to resume.", file=sys.stderr)
        raise SystemExit(EXIT_FAIL) from exc
    finally:
        plex.close()
        stash.close()
        store.close()


def _time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "scene_id": finding.scene_id,
        "kind": finding.kind.value,
        "title": finding.title,
        "fields": list(finding.fields),
        "kept": list(finding.kept),
        "rating_key": finding.rating_key,
        "detail": finding.detail,
    }


def _print(
    summary: CheckSummary, findings: list[Finding], fixed: int | None, *, as_json: bool
) -> None:
    if as_json:
        data = {**summary.__dict__, "findings": [finding_dict(f) for f in findings]}
        if fixed is not None:
            data["fixed"] = fixed
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    print(
        f"Library check of {_time(summary.finished_at)}: {summary.scenes} scenes with a file, "
        f"{summary.full_reads} full item read(s)."
    )
    print("  " + ", ".join(f"{LABELS[k]}: {summary.counts.get(k.value, 0)}" for k in CheckKind))
    for f in findings:
        fields = ", ".join(f.fields)
        if f.kept:
            fields += (", " if fields else "") + "kept in Plex: " + ", ".join(f.kept)
        what = fields or f.detail
        print(f"  scene {f.scene_id:<8} {LABELS[f.kind]:<15} {what:<40} {f.title[:50]}")
    if fixed is not None:
        print(f"{fixed} scene(s) queued to fix; the engine syncs them (offline: plexsync run).")
