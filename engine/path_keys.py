"""How file paths of one server compare: Unicode NFC (macOS writes NFD), and drive-letter and
UNC paths with one separator and without case, as Windows compares them.

Shared by the matcher (`engine/plan/matching.py`) and the stores that key rows by path or folder
(`engine/store/matches.py`), so the store layer needs nothing from the plan layer.
"""

from __future__ import annotations

import re
import unicodedata

_WINDOWS = re.compile(r"^([A-Za-z]:[\\/]|\\\\)")


def is_windows_path(path: str) -> bool:
    """A drive-letter (`D:\\`) or UNC (`\\\\server`) path."""
    return bool(_WINDOWS.match(path))


def path_key(path: str) -> str:
    """How two paths of the Plex server compare: NFC, and for Windows paths one separator and
    no case (Windows file systems ignore case)."""
    path = unicodedata.normalize("NFC", path)
    if is_windows_path(path):
        return path.replace("/", "\\").casefold()
    return path


def folder_key(path: str) -> str:
    """The folder of a file, compared as `path_key` compares paths."""
    key = path_key(path)
    cut = max(key.rfind("/"), key.rfind("\\"))
    return key[: cut + 1] if cut <= 0 or key[cut - 1] == ":" else key[:cut]
