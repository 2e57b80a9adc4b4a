"""The ``sim`` sub-command: run a Plex or Stash simulator until SIGTERM or SIGINT.

``plexsync sim plex --port PORT --token TOKEN --movies N --seed S [--path-prefix /media]
[--path-style posix|windows] [--latency-ms MS] [--latency-per-kb-ms MS]``
``plexsync sim stash --port PORT --api-key KEY --scenes N --seed S [--path-prefix /data]``

Each prints exactly one line, ``ready http://127.0.0.1:PORT``, once it accepts connections, and
exits 0 after a clean stop. ``--port 0`` picks a free port (read it from the ready line).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the simulators (graphql-core) load only when one runs: `plexsync` starts fast
    from plexsync_sim.http_base import SimServer

logger = logging.getLogger(__name__)

_WAKE_SECONDS = 0.5
DEFAULT_PLEX_PREFIX = {"posix": "/media", "windows": "D:\\Media"}


def add_sim_parser(subparsers: Any) -> None:
    """Add ``sim plex`` and ``sim stash`` to an ``argparse`` sub-parser collection.

    Each sets ``func`` (``Callable[[argparse.Namespace], int]``) through ``set_defaults``.
    """
    sim = subparsers.add_parser("sim", help="run a Plex or Stash simulator (tests, demos)")
    kinds = sim.add_subparsers(dest="sim_kind", metavar="{plex,stash}", required=True)

    plex = kinds.add_parser("plex", help="a Plex Media Server simulator")
    plex.add_argument(
        "--port",
        type=int,
        default=0,
        help="TCP port on 127.0.0.1, 0 for any free one (default: %(default)s)",
    )
    plex.add_argument("--token", required=True, help="the X-Plex-Token clients must send")
    plex.add_argument(
        "--movies", type=int, default=50, help="catalogue size (default: %(default)s)"
    )
    plex.add_argument(
        "--seed", type=int, default=1, help="data seed, match the Stash side (default: %(default)s)"
    )
    plex.add_argument(
        "--path-prefix",
        default=None,
        help="folder of the movie files (default: /media, or D:\\Media with --path-style windows)",
    )
    plex.add_argument(
        "--path-style",
        choices=("posix", "windows"),
        default="posix",
        help="report paths like a Plex server on Linux/macOS or on Windows (default: %(default)s)",
    )
    plex.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="added to every answer, a slower Plex (default: %(default)s)",
    )
    plex.add_argument(
        "--latency-per-kb-ms",
        type=float,
        default=0.0,
        help="added per KiB of a request's body, poster uploads (default: %(default)s)",
    )
    plex.set_defaults(func=run_plex)

    stash = kinds.add_parser("stash", help="a Stash GraphQL simulator")
    stash.add_argument(
        "--port",
        type=int,
        default=0,
        help="TCP port on 127.0.0.1, 0 for any free one (default: %(default)s)",
    )
    stash.add_argument(
        "--api-key", required=True, help="the ApiKey clients must send ('' for none)"
    )
    stash.add_argument(
        "--scenes", type=int, default=50, help="catalogue size (default: %(default)s)"
    )
    stash.add_argument(
        "--seed", type=int, default=1, help="data seed, match the Plex side (default: %(default)s)"
    )
    stash.add_argument(
        "--path-prefix", default="/data", help="folder of the scene files (default: %(default)s)"
    )
    stash.set_defaults(func=run_stash)


def run_plex(args: argparse.Namespace) -> int:
    from plexsync_sim.plex.server import PlexSimulator

    sim = PlexSimulator(
        token=args.token,
        movies=args.movies,
        seed=args.seed,
        path_prefix=args.path_prefix or DEFAULT_PLEX_PREFIX[args.path_style],
        port=args.port,
        path_style=args.path_style,
    )
    sim.latency = max(0.0, args.latency_ms) / 1000
    sim.latency_per_kb = max(0.0, args.latency_per_kb_ms) / 1000
    return serve_until_signal(sim)


def run_stash(args: argparse.Namespace) -> int:
    from plexsync_sim.stash.server import StashSimulator

    sim = StashSimulator(
        api_key=args.api_key or None,
        scenes=args.scenes,
        seed=args.seed,
        path_prefix=args.path_prefix,
        port=args.port,
    )
    return serve_until_signal(sim)


def serve_until_signal(sim: SimServer, stop: threading.Event | None = None) -> int:
    """Start ``sim``, print the ready line, serve until SIGTERM/SIGINT (or ``stop``), stop."""
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        try:
            sim.start()
        except OSError as exc:
            print(f"cannot listen: {exc}", file=sys.stderr, flush=True)
            return 1
        print(f"ready {sim.url}", flush=True)
        while not stop.wait(_WAKE_SECONDS):
            pass  # wake regularly so that signal handlers run promptly
        return 0
    finally:
        sim.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
