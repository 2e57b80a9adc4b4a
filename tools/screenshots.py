"""`make screenshots`: the real app under Xvfb + trayer against the simulators, PNGs into docs/.

Drives the installed `plexsync-tray` through what a user sees, with the same harness as the
end-to-end tests (tests/e2e): the tray icon in each state (synced, Plex down, probing, paused,
sign-in rejected, not set up), its menu open, the status window with dead-letter entries and an
outage in its history, and the settings dialog, once as loaded and once with a field error.
Clicks and keys go through xdotool, as a user's would; nothing is drawn by hand.

    .venv/bin/python tools/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "e2e"), str(REPO)]

from screen_pixels import Image, Rect  # noqa: E402
from tray_harness import Secrets, Simulators, TrayHarness, app_installed  # noqa: E402
from x11_desktop import Desktop, Window, missing_packages, wait_until  # noqa: E402

from plexsync_sim.process import SimProcess  # noqa: E402

SCREEN = (1280, 800)
WALLPAPER = "gradient:#51657a-#1d2631"
TRAY_CROP = (112, 40)  # the top-right corner: trayer's panel and a little desktop
TRAY_SCALE = 3  # pixel for pixel, so the 22 px icon can be seen in the README
STATUS_TITLE = "^Status .+ PlexSync Tray$"  # titles end in the app's name (gui/status_window.py)
SETTINGS_TITLE = "^Settings .+ PlexSync Tray$"
POLL = 1.0
RECOVERY = 4.0


class Shooter:
    """Takes the pictures in order; each step leaves the app in the state the next one needs."""

    def __init__(self, out: Path, workdir: Path) -> None:
        self.out = out
        self.workdir = workdir
        self.saved: list[Path] = []

    def run(self) -> None:
        creds = Secrets()
        with (
            Desktop(self.workdir / "x11", screen=SCREEN, tray=False) as desktop,
            Simulators(creds) as sims,
        ):
            desktop.run(
                "display",
                "-window",
                "root",
                "-size",
                "{}x{}".format(*SCREEN),
                WALLPAPER,
                check=False,
            )
            desktop.start_tray()
            tray = TrayHarness(desktop, sims, creds, self.workdir)
            self.desktop, self.tray, self.sims = desktop, tray, sims
            self.tray_states_and_history()
            self.stash_problem()
            self.status_window()
            self.settings_dialog()
            self.about_box()
            self.auth_failed()
            tray.app.stop()
            self.unconfigured()
            self.engine_error()
        leaks = tray.leaks()
        if leaks:
            raise SystemExit(f"a secret leaked while taking screenshots: {leaks}")

    # --- steps ------------------------------------------------------------------------------

    def tray_states_and_history(self) -> None:
        tray, sims = self.tray, self.sims
        tray.launch(poll_interval=POLL, recovery_timeout=RECOVERY, failure_threshold=2)
        tray.wait_until_synced()
        # Scenes that Plex refuses (HTTP 400) go to the dead-letter queue.
        sims.plex.control("POST", "fault", {"match": "^PUT ", "status": 400, "count": 4})
        sims.churn(6)
        tray.wait_for_status(
            lambda s: s["dlq"]["count"] > 0 and not any(s["queue"].values()), 30, "DLQ entries"
        )
        sims.plex.control("DELETE", "fault")
        tray.wait_for_colour("green", 5)
        self.save_tray("tray-closed.png")
        self.save_tooltip("tray-tooltip.png")

        sims.plex.stop()
        tray.wait_for_colour("red", 10)
        first = tray.status()["breaker"]["retry_at"]
        self.save_tray("tray-open.png")
        menu = tray.open_menu()
        self.save_region("tray-menu.png", self.menu_region(menu))
        self.desktop.keys("Escape")

        again = tray.wait_for_status(
            lambda s: s["breaker"]["state"] == "open" and s["breaker"]["retry_at"] > first,
            RECOVERY + 6,
            "a failed half-open probe",
        )
        wait_until(lambda: time.time() >= again["breaker"]["retry_at"] - 1.0, RECOVERY + 1, "retry")
        sims.plex_back_with_slow_probe(5.0)
        tray.wait_for_colour("amber", RECOVERY + 3)
        self.save_tray("tray-half-open.png")
        tray.wait_for_colour("green", 10)

        self.tray.open_menu()  # closed, with DLQ entries
        self.desktop.keys("u", "u")  # Pa&use ▸ &Until restart (the menus' mnemonics)
        tray.wait_for_colour("grey", 5)
        self.save_tray("tray-paused.png")
        self.tray.open_menu()  # paused: Resu&me syncing
        self.desktop.keys("m")
        tray.wait_for_colour("green", 5)

    def stash_problem(self) -> None:
        """Stash goes away: a blue diamond, and the menu says it is Stash."""
        self.sims.stash.stop()
        self.tray.wait_for_colour("blue", 10)
        self.save_tray("tray-stash-problem.png")
        menu = self.tray.open_menu()
        self.save_region("tray-menu-stash.png", self.menu_region(menu))
        self.desktop.keys("Escape")
        self.sims.stash.start()
        self.tray.wait_for_colour("green", 10)

    def status_window(self) -> None:
        x, y = self.tray.icon_rect.centre
        self.desktop.click(x, y, button=1)
        wid = self.wait_window(STATUS_TITLE)
        time.sleep(1.0)  # the store reader fills the tables off the UI thread
        self.save_window("status-dlq.png", wid)
        self.desktop.xdotool("windowfocus", "--sync", str(wid))
        self.desktop.keys("ctrl+Tab")
        time.sleep(0.5)
        self.save_window("status-history.png", wid)
        self.desktop.keys("ctrl+Tab", "ctrl+Tab")  # past Library check to Recent activity
        time.sleep(1.0)  # its first page is read off the UI thread
        self.save_window("status-activity.png", wid)

    def settings_dialog(self) -> None:
        self.tray.open_menu()
        self.desktop.keys("s")  # &Settings…
        wid = self.wait_window(SETTINGS_TITLE)
        time.sleep(0.5)
        self.save_window("settings.png", wid)
        # The Metadata tab (issue 24): Ctrl+Tab steps Plex, Stash, Sync, Metadata.
        for _ in range(3):
            self.desktop.keys("ctrl+Tab")
        time.sleep(0.5)
        self.save_window("settings-metadata.png", wid)
        for _ in range(3):
            self.desktop.keys("ctrl+shift+Tab")
        time.sleep(0.3)
        # Give the Plex server URL (the first text field) an address without a scheme.
        x, y = self.first_text_field(wid)
        self.desktop.click(x, y)
        self.desktop.keys("ctrl+a")
        self.desktop.xdotool("type", "--delay", "20", "plex.local:32400")
        time.sleep(0.5)
        self.save_window("settings-error.png", wid)
        self.desktop.keys("Escape")

    def about_box(self) -> None:
        self.tray.open_menu()
        self.desktop.keys("a")  # &About…
        wid = self.wait_window("^About PlexSync")
        time.sleep(0.5)
        self.save_window("about.png", wid)
        self.desktop.keys("Escape")

    def auth_failed(self) -> None:
        """Plex comes back with another token: the sign-in is rejected."""
        port = self.sims.plex.port
        self.sims.plex.stop()
        impostor = SimProcess(
            "plex", "--token", "someone-else", "--movies", "3", "--port", str(port)
        )
        with impostor:
            self.tray.wait_for_colour("purple", 20)
            self.save_tray("tray-auth-failed.png")

    def unconfigured(self) -> None:
        """A first run: no settings yet, so the icon is a grey ring and the dialog opens."""
        empty = TrayHarness(self.desktop, self.sims, self.tray.creds, self.workdir / "first-run")
        empty.config_dir.mkdir(parents=True)
        empty.app = self.desktop.spawn("first-run", empty.command())
        empty.icon = empty.wait_for_icon()
        self.tray = empty
        empty.wait_for_colour("grey", 10)
        self.save_tray("tray-unconfigured.png")
        empty.app.stop()

    def engine_error(self) -> None:
        """The database cannot be opened (here: a folder in its place): a dark red stop sign."""
        broken = TrayHarness(self.desktop, self.sims, self.tray.creds, self.workdir / "broken")
        (broken.config_dir / "data" / "plexsync.sqlite3").mkdir(parents=True)
        broken.launch()
        self.tray = broken
        broken.wait_for_colour("red", 10)
        self.save_tray("tray-engine-error.png")
        menu = broken.open_menu()
        self.save_region("tray-menu-engine-error.png", self.menu_region(menu))
        self.desktop.keys("Escape")
        assert broken.app is not None
        broken.app.stop()

    # --- pictures ---------------------------------------------------------------------------

    def tray_region(self) -> Rect:
        width, height = TRAY_CROP
        return Rect(SCREEN[0] - width, 0, width, height)

    def menu_region(self, menu: Window) -> Rect:
        left = min(menu.rect.x, SCREEN[0] - TRAY_CROP[0]) - 24
        bottom = menu.rect.y + menu.rect.height + 24
        return Rect(left, 0, SCREEN[0] - left, bottom)

    def save_tray(self, name: str) -> None:
        time.sleep(0.3)
        self.save_image(name, self.desktop.screenshot().crop(self.tray_region()).scaled(TRAY_SCALE))

    def save_tooltip(self, name: str) -> None:
        x, y = self.tray.icon_rect.centre
        self.desktop.xdotool("mousemove", str(x), str(y))
        self.desktop.xdotool("mousemove", str(x + 1), str(y + 1))
        time.sleep(1.5)
        region = Rect(SCREEN[0] - 420, 0, 420, 130)
        self.save_image(name, self.desktop.screenshot().crop(region))
        self.desktop.xdotool("mousemove", "5", str(SCREEN[1] - 5))
        time.sleep(0.5)

    def save_region(self, name: str, region: Rect) -> None:
        time.sleep(0.3)
        self.save_image(name, self.desktop.screenshot().crop(region))

    def save_window(self, name: str, wid: int) -> None:
        geometry = self.window_rect(wid)
        self.save_image(name, self.desktop.screenshot().crop(geometry))

    def save_image(self, name: str, image: Image) -> None:
        path = self.out / name
        image.save_png(path)
        self.saved.append(path)
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")

    def first_text_field(self, wid: int) -> tuple[int, int]:
        """The centre of the topmost wide white box in a window: its first line edit."""
        rect = self.window_rect(wid)
        image = self.desktop.screenshot().crop(rect)
        for y in range(image.height):
            run = 0
            for x in range(image.width):
                run = run + 1 if image.pixel(x, y) == (255, 255, 255) else 0
                if run >= 200:
                    return rect.x + x - run // 2, rect.y + y + 6
        raise LookupError("no text field found in the settings dialog")

    def window_rect(self, wid: int) -> Rect:
        for window in self.desktop.windows():
            if window.wid == wid:
                return window.rect
        raise LookupError(f"window {wid:#x} is gone")

    def wait_window(self, title: str) -> int:
        found = wait_until(lambda: self.desktop.visible_windows(title), 10, f"a window {title}")
        assert isinstance(found, list)
        return int(found[0])


def cjk_fonts() -> bool:
    if shutil.which("fc-list") is None:
        return True  # cannot tell
    done = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True, timeout=30)
    return bool(done.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs) afterwards")
    args = parser.parse_args(argv)
    missing = missing_packages()
    if missing:
        print(f"install first: sudo apt-get install {' '.join(missing)}", file=sys.stderr)
        return 2
    if not cjk_fonts():
        print(
            "note: no CJK font, some scene titles will show boxes: sudo apt-get install "
            "fonts-droid-fallback",
            file=sys.stderr,
        )
    if not app_installed():
        print("plexsync-tray is not installed in this venv: run `make venv`", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="plexsync-screenshots-"))
    shooter = Shooter(args.out.resolve(), workdir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # unwind: stop every child
    try:
        shooter.run()
    finally:
        if args.keep:
            print(f"work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"{len(shooter.saved)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
