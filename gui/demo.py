"""`plexsync-tray --demo`: Plex and Stash simulators in-process, a throw-away config dir.

Short timeouts make a newcomer see the whole cycle within a minute: green once synced; red after
"Simulate Plex outage" (the Plex simulator stops); amber while the half-open probe runs after it
comes back (its first health check, the section list, is held for a few seconds); green again.
The user's own config, data and logs are never touched.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from engine.config.file import PathMapping, PlexSyncConfig, save_config
from engine.paths import AppPaths

if TYPE_CHECKING:
    from plexsync_sim.plex.server import PlexSimulator
    from plexsync_sim.stash.server import StashSimulator

logger = logging.getLogger(__name__)

DEMO_SEED = 7
DEMO_MOVIES = 60
DEMO_SCENES = 40
OUTAGE_SECONDS = 25
PROBE_DELAY_S = 3.0
CHURN_COUNT = 8
RENAMED = " (renamed)"
GREETING = (
    "PlexSync demo",
    "Two simulators stand in for Plex and Stash. Try the Demo menu in this icon's menu: "
    "an outage, changed scenes, a failed scene, a renamed tag.",
)


@dataclass
class DemoEnvironment:
    """The simulators and the temporary directory that stands in for the user's dirs."""

    directory: Path
    plex: PlexSimulator
    stash: StashSimulator

    @classmethod
    def start(cls) -> DemoEnvironment:
        from plexsync_sim.plex.server import PlexSimulator  # only the demo needs them
        from plexsync_sim.stash.server import StashSimulator

        directory = Path(tempfile.mkdtemp(prefix="plexsync-demo-"))
        plex = PlexSimulator(
            token=secrets.token_urlsafe(16),
            movies=DEMO_MOVIES,
            seed=DEMO_SEED,
            path_prefix="/media",
        )
        stash = StashSimulator(
            api_key=secrets.token_urlsafe(16),
            scenes=DEMO_SCENES,
            seed=DEMO_SEED,
            path_prefix="/data",
        )
        plex.start()
        try:
            stash.start()
        except BaseException:
            plex.stop()
            raise
        env = cls(directory, plex, stash)
        save_config(env.config(), env.paths.config_file)
        logger.info("Demo: Plex simulator at %s, Stash simulator at %s", plex.url, stash.url)
        return env

    @property
    def paths(self) -> AppPaths:
        return AppPaths.in_dir(self.directory)

    def config(self) -> PlexSyncConfig:
        plex, stash = self.plex, self.stash
        return PlexSyncConfig(
            plex_url=plex.url,
            plex_token=SecretStr(plex.token),
            stash_url=stash.url,
            stash_api_key=None if stash.api_key is None else SecretStr(stash.api_key),
            poll_interval=2,
            plex_connect_timeout=2,
            plex_read_timeout=8,
            failure_threshold=2,
            recovery_timeout=5,
            success_threshold=1,
            max_retries=3,
            path_mappings=[PathMapping(stash_prefix="/data", plex_prefix="/media")],
            notifications=True,
        )

    def secrets(self) -> list[str]:
        return [self.plex.token, self.stash.api_key or ""]

    def close(self) -> None:
        for sim in (self.stash, self.plex):
            try:
                sim.stop()
            except Exception:
                logger.exception("Could not stop a demo simulator")
        shutil.rmtree(self.directory, ignore_errors=True)


class DemoController(QObject):
    """The Demo submenu's actions."""

    outage_changed = Signal(bool)  # True while the Plex simulator is down

    def __init__(
        self,
        env: DemoEnvironment,
        parent: QObject | None = None,
        *,
        outage_ms: int = OUTAGE_SECONDS * 1000,
    ) -> None:
        super().__init__(parent)
        self.env = env
        self._restart = QTimer(self)
        self._restart.setSingleShot(True)
        self._restart.setInterval(outage_ms)
        self._restart.timeout.connect(self.end_outage)

    @property
    def plex_down(self) -> bool:
        return not self.env.plex.running

    @Slot()
    def toggle_outage(self) -> None:
        """Stop the Plex simulator (it comes back by itself), or bring it back now."""
        if self.plex_down:
            self.end_outage()
            return
        logger.info("Demo: Plex outage starts (back in %d s)", self._restart.interval() // 1000)
        self.env.plex.stop()
        self.change_scenes()  # give the engine work that needs Plex
        self._restart.start()
        self.outage_changed.emit(True)

    @Slot()
    def end_outage(self) -> None:
        self._restart.stop()
        if not self.plex_down:
            return
        plex = self.env.plex
        # Hold the first health check a moment, so the half-open probe shows as amber.
        # The probe reads the section list (it needs the token; /identity does not).
        plex.add_fault(match=r"^GET /library/sections$", status=None, count=1, delay=PROBE_DELAY_S)
        plex.start()
        logger.info("Demo: Plex is back")
        self.outage_changed.emit(False)

    @Slot()
    def change_scenes(self) -> None:
        changed = self.env.stash.churn(CHURN_COUNT)
        logger.info("Demo: %d scenes changed in Stash", len(changed))

    @Slot()
    def send_to_dlq(self) -> str:
        """Change one scene in Stash and have Plex refuse its next edit (a 400, a permanent
        error): the scene lands in the dead-letter queue at once. Returns its id."""
        # A fault on the simulator, not a real Plex behaviour: the edit route is
        # `PUT /library/sections/{id}/all` (plexapi's `_edit`), faults match the path.
        self.env.plex.add_fault(match=r"^PUT /library/sections/\d+/all$", status=400, count=1)
        changed = self.env.stash.churn(1)
        logger.info("Demo: scene %s changed; Plex will refuse its edit", changed[0])
        return changed[0]

    @Slot()
    def rename_tag(self) -> tuple[str, str]:
        """Rename a tag in Stash that scenes carry; every scene with it syncs the new name."""
        stash = self.env.stash
        for scene_id in range(1, DEMO_SCENES + 1):
            scene = stash.scene(scene_id)
            names = [n for n in (scene or {}).get("tags", []) if not n.endswith(RENAMED)]
            if names:
                old = names[0]
                stash.rename_object("tag", stash.object_id("tag", old), old + RENAMED)
                logger.info("Demo: tag %r renamed to %r", old, old + RENAMED)
                return old, old + RENAMED
        raise LookupError("no tag left to rename")

    def menu_entries(self) -> list[tuple[str, Callable[[], object]]]:
        """The Demo submenu: (label with its mnemonic, what it does); the outage entry first."""
        return [
            (self.outage_label(), self.toggle_outage),
            (self.tr("&Change scenes in Stash"), self.change_scenes),
            (self.tr("Send a scene to the &dead-letter queue"), self.send_to_dlq),
            (self.tr("&Rename a tag in Stash"), self.rename_tag),
        ]

    def outage_label(self) -> str:
        return (
            self.tr("&End Plex outage now") if self.plex_down else self.tr("&Simulate Plex outage")
        )
