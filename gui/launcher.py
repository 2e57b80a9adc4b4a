"""Process start-up for `plexsync-tray`: arguments, QApplication, one instance, logs, signals.

`plexsync-tray [--config-dir DIR] [--demo] [--autostart]` (also `python -m gui.launcher`, which
the login entry runs). One instance per user and config dir; a second launch asks the first to
show its window and exits 0. SIGTERM/SIGINT quit the event loop; `TrayApp.shutdown()` then stops
the engine thread (<= 2 s) and closes the database, and the exit code is the event loop's.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QApplication

from engine import __version__
from engine.config.secret_store import KeyringStore
from engine.paths import AppPaths
from gui.app import TrayApp
from gui.autostart import autostart_command, for_platform, launcher_command
from gui.demo import DemoEnvironment
from gui.logging_setup import SecretMasker, install_qt_message_handler, setup_logging
from gui.posix_signals import QuitOnSignals
from gui.presentation import APP_TITLE
from gui.single_instance import SingleInstance
from gui.singleton_refs import pin_singletons
from gui.translations import install_translator

logger = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="plexsync-tray", description="Keeps Plex metadata in step with Stash, from the tray."
    )
    parser.add_argument(
        "--config-dir",
        type=Path,
        help="keep config, data and logs in DIR instead of the per-user dirs",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against built-in Plex and Stash simulators, in a throw-away dir",
    )
    parser.add_argument(
        "--autostart",
        action="store_true",
        help="started at login: wait up to 30 s for the system tray",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication([sys.argv[0]] if sys.argv else ["plexsync-tray"])
    assert isinstance(app, QApplication)
    pin_singletons()  # before anything runs: see gui/singleton_refs.py
    app.setApplicationName("plexsync-tray")
    app.setApplicationDisplayName(APP_TITLE)
    app.setDesktopFileName("plexsync-tray")
    app.setApplicationVersion(__version__)
    app.setQuitOnLastWindowClosed(False)
    install_translator(app)

    demo = DemoEnvironment.start() if args.demo else None
    paths = (demo.paths if demo is not None else AppPaths.resolve(args.config_dir)).ensure()
    instance = SingleInstance(paths.data_dir)
    if not instance.acquire():
        told = instance.notify_first(list(sys.argv[1:] if argv is None else argv))
        message = "asked it to show its window" if told else "but it did not answer"
        print(f"PlexSync Tray is already running; {message}.", file=sys.stderr)
        if demo is not None:
            demo.close()
        return 0 if told else 1

    masker = SecretMasker()
    log_file = setup_logging(paths.log_dir, masker, console=sys.stderr is not None)
    install_qt_message_handler()
    logger.info("PlexSync Tray %s starting; log file %s", __version__, log_file)

    autostart = None
    if demo is None:
        custom_dir = paths.config_dir if args.config_dir is not None else None
        autostart = for_platform(autostart_command(launcher_command(), custom_dir))
    tray_app = TrayApp(
        paths,
        autostart=autostart,
        masker=masker,
        demo=demo,
        secrets=KeyringStore() if demo is None else None,
        launched_at_login=args.autostart,
    )
    signals = QuitOnSignals(app)
    app.aboutToQuit.connect(tray_app.shutdown)
    instance.activation_requested.connect(lambda _argv: tray_app.activate())
    try:
        tray_app.start()
    except Exception:
        logger.exception("PlexSync Tray could not start")
        tray_app.shutdown()
        raise
    code = app.exec()
    clean = tray_app.shutdown()
    signals.close()
    instance.close()
    if demo is not None:
        demo.close()
    logger.info("PlexSync Tray stopped (exit code %d)", code)
    logging.shutdown()
    if not clean:
        # The engine thread is stuck in a call; its job is still marked in progress in the
        # database and becomes pending again at the next start. Don't let Qt abort on it.
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
