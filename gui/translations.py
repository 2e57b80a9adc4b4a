"""Translations: a `plexsync_<locale>.qm` in resources/ is loaded for the system locale.

The UI's strings go through Qt's translation functions, so adding a language is adding a .qm
file (made with pyside6-lupdate / pyside6-lrelease); none ship yet. QObject subclasses use
`self.tr()`, plain functions `QCoreApplication.translate(context, ...)`, and counts go through
`translate_n`, so a translation can give every plural form its language has.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

logger = logging.getLogger(__name__)

PREFIX = "plexsync_"


def translate_n(context: str, one: str, many: str, n: int) -> str:
    """`many` (with `%n`) in the plural form for `n` from the loaded translation; with none
    loaded, English: `one` for 1, else `many`. English shows `n` with thousands separators."""
    translated = QCoreApplication.translate(context, many, None, n)
    if translated != many.replace("%n", str(n)):
        return translated  # a translation chose the form (and formats %n / %Ln itself)
    return (one if n == 1 else many).replace("%n", f"{n:,}")


def fill(translated: str, *values: object) -> str:
    """Qt's numbered arguments in one pass: %1, %2, … in a translated text become `values`, in
    whatever order the translation put them (a value holding "%2" is left as it is)."""
    return re.sub(r"%([1-9])", lambda m: str(values[int(m.group(1)) - 1]), translated)


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
