"""`plexsync dlq ...`: list, show, retry, confirm, delete and purge dead-letter entries."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from engine.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    cli_paths,
    days,
    entry_id,
    fmt_time,
    open_store,
    row_limit,
    row_offset,
    through_engine,
)


def _entry_dict(entry: Any, *, payload: bool = False) -> dict[str, Any]:
    data = {
        "id": entry.id,
        "scene_id": entry.scene_id,
        "title": entry.title,
        "error_class": entry.error_class,
        "message": entry.message,
        "attempts": entry.attempts,
        "first_failure_at": entry.first_failure_at,
        "last_failure_at": entry.last_failure_at,
    }
    if payload:
        data["payload"] = entry.payload
    return data


def cmd_dlq_list(args: argparse.Namespace) -> int:
    store = open_store(cli_paths(args))
    try:
        entries = store.dlq_list(limit=args.limit, offset=args.offset)
    finally:
        store.close()
    if args.json:
        print(json.dumps([_entry_dict(e) for e in entries], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not entries:
        print("The dead-letter queue is empty.")
        return EXIT_OK
    for e in entries:
        print(
            f"{e.id:>6}  scene {e.scene_id:<8} {e.error_class:<10} "
            f"{fmt_time(e.last_failure_at)}  {e.title[:40]!s:<40}  {e.message[:60]}"
        )
    return EXIT_OK


def cmd_dlq_show(args: argparse.Namespace) -> int:
    store = open_store(cli_paths(args))
    try:
        entry = store.dlq_get(args.id)
    finally:
        store.close()
    if entry is None:
        print(f"No dead-letter entry {args.id}.", file=sys.stderr)
        return EXIT_FAIL
    print(json.dumps(_entry_dict(entry, payload=True), indent=2, ensure_ascii=False))
    return EXIT_OK


def _ids(args: argparse.Namespace) -> list[int] | None:
    if args.all:
        return None
    if args.id is None:
        raise SystemExit("give an entry id or --all")
    return [args.id]


def _entries(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def _dlq_action(args: argparse.Namespace, command: str, done: str) -> int:
    """`dlq retry` / `dlq delete`: one entry or --all, through the running engine if any."""
    ids = _ids(args)
    count = through_engine(
        cli_paths(args), command, {"ids": ids}, lambda store: getattr(store, command)(ids)
    )
    print(f"{_entries(count)} {done}.")
    return EXIT_OK if count or ids is None else EXIT_FAIL


def cmd_dlq_retry(args: argparse.Namespace) -> int:
    return _dlq_action(args, "dlq_retry", "queued again")


def cmd_dlq_confirm(args: argparse.Namespace) -> int:
    """A possible match is the scene's file: pair the folders and queue the scene to write."""
    count = through_engine(
        cli_paths(args),
        "dlq_confirm",
        {"id": args.id, "item": args.item},
        lambda store: store.dlq_confirm(args.id, args.item),
    )
    if not count:
        print(
            f"Entry {args.id} has no possible match to confirm"
            + (f" with Plex item {args.item}" if args.item else " (give --item for one of several)")
            + ".",
            file=sys.stderr,
        )
        return EXIT_FAIL
    print(f"Match confirmed; {_entries(count)} queued again.")
    return EXIT_OK


def cmd_dlq_delete(args: argparse.Namespace) -> int:
    return _dlq_action(args, "dlq_delete", "deleted")


def cmd_dlq_purge(args: argparse.Namespace) -> int:
    paths = cli_paths(args)
    older = args.older_than
    if older is None:
        from engine.config.file import load_config_report  # pydantic: only when it is needed

        older = load_config_report(paths.config_file).config.dlq_retention_days
    count = through_engine(
        paths, "dlq_purge", {"older_than_days": older}, lambda store: store.dlq_purge(older)
    )
    print(f"{_entries(count)} older than {older:g} days purged.")
    return EXIT_OK


def add_dlq_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The `dlq` command and its actions."""
    dlq = sub.add_parser("dlq", parents=[common], help="the dead-letter queue").add_subparsers(
        dest="dlq_command", metavar="ACTION", required=True
    )
    listing = dlq.add_parser("list", parents=[common], help="list entries, newest first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--limit", type=row_limit, default=100)
    listing.add_argument("--offset", type=row_offset, default=0)
    listing.set_defaults(func=cmd_dlq_list)
    show = dlq.add_parser("show", parents=[common], help="one entry with its payload")
    show.add_argument("id", type=entry_id)
    show.set_defaults(func=cmd_dlq_show)
    for name, func, verb in (
        ("retry", cmd_dlq_retry, "send back to the queue"),
        ("delete", cmd_dlq_delete, "delete"),
    ):
        action = dlq.add_parser(name, parents=[common], help=f"{verb} one entry or --all")
        action.add_argument("id", type=entry_id, nargs="?")
        action.add_argument("--all", action="store_true")
        action.set_defaults(func=func, logs=True)
    confirm = dlq.add_parser(
        "confirm", parents=[common], help="a possible match is the scene's file: write it"
    )
    confirm.add_argument("id", type=entry_id)
    confirm.add_argument("--item", metavar="RATING_KEY", help="which candidate, of several")
    confirm.set_defaults(func=cmd_dlq_confirm, logs=True)
    purge = dlq.add_parser("purge", parents=[common], help="delete entries older than N days")
    purge.add_argument("--older-than", type=days, metavar="DAYS")
    purge.set_defaults(func=cmd_dlq_purge, logs=True)
