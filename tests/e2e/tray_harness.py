"""The real `plexsync-tray` on a private X11 desktop, against the simulators run as processes.

`TrayHarness` writes a config into its own directory, launches the installed app there, finds
its icon in trayer's panel, reads the icon's colour from screenshots and the engine's state from
`plexsync status --json`, and keeps every line the run printed so that a test can check that no
secret ever appears. Used by the end-to-end tests and by `tools/screenshots.py`.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from screen_pixels import Image, Rect, classify
from x11_desktop import Child, Desktop, Managed, Window, wait_until

from engine.config.file import PlexSyncConfig, save_config
from plexsync_sim.process import SimProcess

REPO = Path(__file__).resolve().parents[2]
APP = Path(sys.executable).with_name("plexsync-tray")
ITEMS = 30
SEED = 5
CLI_TIMEOUT = 60.0
SAMPLE_INTERVAL = 0.1


def app_installed() -> bool:
    return APP.exists()


@dataclass(frozen=True)
class Secrets:
    """Fresh, recognisable credentials per run, so that any leak is unambiguous."""

    token: str = field(default_factory=lambda: "plextok-" + secrets.token_hex(12))
    api_key: str = field(default_factory=lambda: "stashkey-" + secrets.token_hex(12))

    def leaked_in(self, text: str) -> list[str]:
        return [name for name, value in self.named() if value in text]

    def named(self) -> list[tuple[str, str]]:
        return [("the Plex token", self.token), ("the Stash API key", self.api_key)]


class Simulators(Managed):
    """Plex and Stash simulators as separate processes on 127.0.0.1; stopped on exit."""

    def __init__(self, creds: Secrets, *, items: int = ITEMS, seed: int = SEED) -> None:
        self.plex = SimProcess(
            "plex", "--token", creds.token, "--movies", str(items), "--seed", str(seed)
        )
        self.stash = SimProcess(
            "stash", "--api-key", creds.api_key, "--scenes", str(items), "--seed", str(seed)
        )

    def start(self) -> Self:
        try:
            self.plex.start()
            self.stash.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for sim in (self.stash, self.plex):
            try:
                sim.stop()
            except Exception:
                pass

    def plex_back_with_slow_probe(self, delay: float) -> None:
        """Restart the Plex simulator, holding its first health check (the section list).

        A restarted simulator starts without faults, so the fault is set the moment it is up.
        """
        self.plex.start()
        self.plex.control(
            "POST",
            "fault",
            {"match": "^GET /library/sections$", "status": None, "delay": delay, "count": 1},
        )

    def churn(self, count: int) -> list[str]:
        """Edit `count` Stash scenes; the titles they now have."""
        changed: list[str] = self.stash.control("POST", "churn", {"count": count})["changed"]
        return [self.stash.control("GET", f"scenes/{scene}")["title"] for scene in changed]

    def plex_titles(self) -> set[str]:
        return {item["title"] for item in self.plex.control("GET", "items")}


class TrayHarness:
    """One app instance with its own config dir, on `desktop`, against `sims`."""

    def __init__(self, desktop: Desktop, sims: Simulators, creds: Secrets, workdir: Path) -> None:
        self.desktop = desktop
        self.sims = sims
        self.creds = creds
        self.config_dir = workdir / "config"
        self.app: Child | None = None
        self.icon: Window | None = None
        self.transcript: list[str] = []  # every output of the run, for the secrets check
        self.last_image: Image | None = None

    # --- config and launch ---------------------------------------------------------------

    def write_config(self, **overrides: Any) -> PlexSyncConfig:
        settings: dict[str, Any] = {
            "plex_url": self.sims.plex.url,
            "plex_token": self.creds.token,
            "stash_url": self.sims.stash.url,
            "stash_api_key": self.creds.api_key,
            "poll_interval": 1,
            "recovery_timeout": 3,
            "failure_threshold": 2,
            "plex_connect_timeout": 2,
            "plex_read_timeout": 10,
            "path_mappings": [{"stash_prefix": "/data", "plex_prefix": "/media"}],
            "notifications": False,
        }
        settings.update(overrides)
        config = PlexSyncConfig(**settings)
        self.config_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, self.config_dir / "config.json")
        return config

    def command(self) -> list[str]:
        return [str(APP), "--config-dir", str(self.config_dir)]

    def launch(
        self, *, env: dict[str, str] | None = None, docked: bool = True, **config: Any
    ) -> Child:
        """Write the config and start the app; with `docked`, wait for its icon in the tray."""
        self.write_config(**config)
        self.app = self.desktop.spawn("plexsync-tray", self.command(), env=env)
        if docked:
            self.icon = self.wait_for_icon()
        return self.app

    def wait_for_icon(self, timeout: float = 20.0) -> Window:
        def docked() -> Window | None:
            assert self.app is not None
            if not self.app.running:
                raise AssertionError(f"the app exited early:\n{self.app.output()[-3000:]}")
            return self.desktop.tray_icon()

        icon = wait_until(docked, timeout, "the tray icon to dock in trayer")
        assert isinstance(icon, Window)
        return icon

    def second_launch(self, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.command(),
            env=self.desktop.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        self.transcript += [done.stdout, done.stderr]
        return done

    # --- the icon ------------------------------------------------------------------------

    @property
    def icon_rect(self) -> Rect:
        assert self.icon is not None, "launch() the app docked first"
        return self.icon.rect

    def colour(self) -> str:
        """The icon's colour now: green, amber, red, blue, purple, grey or mixed."""
        self.last_image = self.desktop.screenshot()
        return classify(self.last_image.region(self.icon_rect))

    def wait_for_colour(self, colour: str, timeout: float) -> float:
        """Poll screenshots until the icon shows `colour`; the monotonic time it was seen."""
        return self.colours_until(colour, timeout)[-1][0]

    def colours_until(self, colour: str, timeout: float) -> list[tuple[float, str]]:
        """Every sample (monotonic time, colour) up to and including the first `colour`."""
        deadline = time.monotonic() + timeout
        samples: list[tuple[float, str]] = []
        while True:
            now = self.colour()
            samples.append((time.monotonic(), now))
            if now == colour:
                return samples
            if samples[-1][0] >= deadline:
                names = [c for _, c in samples]
                raise AssertionError(
                    f"the icon did not turn {colour} within {timeout:g} s; it showed {_runs(names)}"
                )
            time.sleep(SAMPLE_INTERVAL)

    def open_menu(self) -> Window:
        """Right-click the icon; the context menu's window once it is mapped."""
        x, y = self.icon_rect.centre
        self.desktop.click(x, y, button=3)

        def menu() -> Window | None:
            for window in self.desktop.windows():
                top_level = window.depth == 1 and window.klass == "plexsync-tray"
                if top_level and window.rect.height > 80:
                    return window
            return None

        found = wait_until(menu, 5.0, "the tray menu")
        assert isinstance(found, Window)
        # Park the pointer away from the menu: only the keyboard chooses an entry.
        self.desktop.xdotool("mousemove", "5", str(self.desktop.screen[1] - 5))
        return found

    # --- the engine, through the CLI -------------------------------------------------------

    def cli(self, *args: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "engine.cli", "--config-dir", str(self.config_dir), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
        )
        self.transcript += [done.stdout, done.stderr]
        return done

    def status(self) -> dict[str, Any]:
        done = self.cli("status", "--json")
        assert done.returncode == 0, done.stderr
        data: dict[str, Any] = json.loads(done.stdout)
        return data

    def wait_for_status(self, check: Any, timeout: float, what: str) -> dict[str, Any]:
        last: list[dict[str, Any]] = []

        def probe() -> dict[str, Any] | None:
            data = self.status()
            last[:] = [data]
            return data if check(data) else None

        try:
            found = wait_until(probe, timeout, what, interval=0.2)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; last status: {last[-1] if last else None}") from None
        assert isinstance(found, dict)
        return found

    def wait_until_synced(self, timeout: float = 30.0) -> dict[str, Any]:
        """Everything synced once (a last sync time, an empty queue), and the icon green."""
        data = self.wait_until_drained(timeout)
        self.wait_for_colour("green", 5.0)
        return data

    def wait_until_drained(self, timeout: float) -> dict[str, Any]:
        return self.wait_for_status(
            lambda s: (
                s["last_sync_at"] is not None
                and s["breaker"]["state"] == "closed"
                and not any(s["queue"].values())
            ),
            timeout,
            "the queue to drain",
        )

    # --- logs and secrets -------------------------------------------------------------------

    def log_text(self) -> str:
        logs = sorted((self.config_dir / "logs").glob("*.log*"))
        return "".join(path.read_text(encoding="utf-8", errors="replace") for path in logs)

    def leaks(self, extra: Iterable[str] = ()) -> list[str]:
        """Where a secret shows up: the log files, the app's output, anything recorded."""
        log = self.log_text()
        assert "PlexSync Tray" in log, f"no log file under {self.config_dir / 'logs'}"
        places = [("the log file", log)]
        if self.app is not None:
            places.append(("the app's output", self.app.output()))
        places += [("a command's output", text) for text in self.transcript]
        places += [("the tooltip", text) for text in extra]
        found = []
        for place, text in places:
            found += [f"{secret} in {place}" for secret in self.creds.leaked_in(text)]
        return found


def _runs(colours: list[str]) -> str:
    """`green x3, red x5`: a compact history of samples."""
    out: list[list[Any]] = []
    for colour in colours:
        if out and out[-1][0] == colour:
            out[-1][1] += 1
        else:
            out.append([colour, 1])
    return ", ".join(f"{c} x{n}" for c, n in out) or "nothing"
