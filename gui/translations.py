"""Translations: a `plexsync_<locale>.qm` in resources/ is loaded for the system locale.

The UI's strings go through Qt's translation functions, so adding a language is adding a .qm
file (made with pyside6-lupdate / pyside6-lrelease); none ship yet.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

logger = logging.getLogger(__name__)

PREFIX = "plexsync_"


def resources_dir() -> Path:
    return Path(str(resources.files("resources")))


def install_translator(
    app: QCoreApplication, *, locale: QLocale | None = None, folder: Path | None = None
) -> QTranslator | None:
    """Install the best .qm for `locale` (default: the system's); None when there is none."""
    translator = QTranslator(app)
    where = str(folder or resources_dir())
    if not translator.load(locale or QLocale.system(), "plexsync", "_", where, ".qm"):
        return None
    app.installTranslator(translator)
    logger.info("Loaded translation %s", translator.filePath())
    return translator
