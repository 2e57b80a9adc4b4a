"""``python -m plexsync_sim plex|stash ...``: the ``sim`` sub-command without the main CLI."""

from __future__ import annotations

import argparse
import sys

from plexsync_sim.cli import add_sim_parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plexsync_sim")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_sim_parser(subparsers)
    args = parser.parse_args(["sim", *(sys.argv[1:] if argv is None else argv)])
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
