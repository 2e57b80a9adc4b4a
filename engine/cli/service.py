"""`plexsync service install | uninstall`: the headless engine as a systemd user service.

The unit ships as resources/plexsync.service; installing writes it into the user's unit folder
with ExecStart= pointing at this installation's `plexsync` (a venv or pipx puts it anywhere).
systemctl itself is left to the user: the commands to run are printed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from engine.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE

UNIT_NAME = "plexsync.service"
SHIPPED_EXEC = "%h/.local/bin/plexsync"


def unit_dir() -> Path:
    """Where systemd looks for a user's own units (`$XDG_CONFIG_HOME/systemd/user`)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def shipped_unit() -> str:
    from importlib import resources

    return resources.files("resources").joinpath(UNIT_NAME).read_text(encoding="utf-8")


def plexsync_executable() -> Path | None:
    """The `plexsync` script next to this interpreter (its venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "plexsync"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("plexsync")
    return Path(found).resolve() if found else None


def unit_text(executable: Path, config_dir: str | None) -> str:
    """The shipped unit with ExecStart= naming `executable` (and `--config-dir` if given)."""
    command = shlex.quote(str(executable))
    if config_dir is not None:
        folder = shlex.quote(str(Path(config_dir).expanduser().resolve()))
        command += f" --config-dir {folder}"
    text = shipped_unit()
    if f"ExecStart={SHIPPED_EXEC} run" not in text:
        raise RuntimeError("the shipped unit has no ExecStart line to fill in")
    return text.replace(f"ExecStart={SHIPPED_EXEC} run", f"ExecStart={command} run")


def cmd_service_install(args: argparse.Namespace) -> int:
    if sys.platform != "linux":
        print("The systemd user service is for Linux only.", file=sys.stderr)
        return EXIT_USAGE
    executable = plexsync_executable()
    if executable is None:
        print("Could not find the installed `plexsync` command.", file=sys.stderr)
        return EXIT_FAIL
    target = unit_dir() / UNIT_NAME
    if target.exists() and not args.force:
        print(f"{target} exists; `--force` replaces it.", file=sys.stderr)
        return EXIT_USAGE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(unit_text(executable, args.config_dir), encoding="utf-8")
    print(f"Installed {target} (runs {executable} run).")
    print("Start it now and at every login:")
    print("  systemctl --user daemon-reload")
    print("  systemctl --user enable --now plexsync.service")
    print("To keep it running while you are logged out: loginctl enable-linger")
    print("Do not run the tray app at the same time: one engine per config.")
    return EXIT_OK


def cmd_service_uninstall(args: argparse.Namespace) -> int:
    target = unit_dir() / UNIT_NAME
    wanted = unit_dir() / "default.target.wants" / UNIT_NAME
    if not target.exists() and not wanted.is_symlink():
        print(f"Not installed: no {target}.")
        return EXIT_OK
    wanted.unlink(missing_ok=True)  # what `enable` linked; `disable` would remove it too
    target.unlink(missing_ok=True)
    print(f"Removed {target}. Stop a running one and forget the unit:")
    print("  systemctl --user stop plexsync.service")
    print("  systemctl --user daemon-reload")
    return EXIT_OK


def add_service_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The `service` command and its actions."""
    service = sub.add_parser(
        "service", parents=[common], help="run the engine as a systemd user service (Linux)"
    )
    actions = service.add_subparsers(dest="service_command", metavar="ACTION", required=True)
    install = actions.add_parser(
        "install", parents=[common], help=f"write {UNIT_NAME} into ~/.config/systemd/user"
    )
    install.add_argument("--force", action="store_true", help="replace an installed unit")
    install.set_defaults(func=cmd_service_install, logs=True)
    actions.add_parser("uninstall", parents=[common], help=f"remove {UNIT_NAME}").set_defaults(
        func=cmd_service_uninstall, logs=True
    )
