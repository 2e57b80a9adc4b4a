"""Where the app keeps its files: platformdirs per user, or one directory for everything."""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "plexsync-tray"
CONFIG_FILE = "config.json"


def config_dir() -> Path:
    """The per-user config dir (here, not in engine.config.file, so paths need no pydantic)."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE

    @property
    def database(self) -> Path:
        return self.data_dir / "plexsync.sqlite3"

    @property
    def control_file(self) -> Path:
        """Address and secret of the running engine's control channel."""
        return self.data_dir / "control.json"

    @property
    def runtime_dir(self) -> Path | None:
        """The per-user runtime dir for the control socket (None where there is none)."""
        if sys.platform == "win32":
            return None
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR platformdirs falls back to /tmp/runtime-<uid> and warns;
            # the control channel checks that directory is private before using it.
            warnings.simplefilter("ignore")
            return platformdirs.user_runtime_path(APP_NAME, appauthor=False)

    @classmethod
    def default(cls) -> AppPaths:
        """The per-user directories (XDG variables honoured on Linux)."""
        return cls(
            config_dir=config_dir(),
            data_dir=platformdirs.user_data_path(APP_NAME, appauthor=False),
            log_dir=platformdirs.user_log_path(APP_NAME, appauthor=False),
        )

    @classmethod
    def in_dir(cls, directory: Path) -> AppPaths:
        """`--config-dir DIR`: config, data and logs together (tests and the demo use it)."""
        directory = directory.expanduser().resolve()
        return cls(config_dir=directory, data_dir=directory / "data", log_dir=directory / "logs")

    @classmethod
    def resolve(cls, directory: Path | str | None) -> AppPaths:
        return cls.default() if directory is None else cls.in_dir(Path(directory))

    def ensure(self) -> AppPaths:
        for directory in (self.config_dir, self.data_dir, self.log_dir):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self
