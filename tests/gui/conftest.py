"""GUI test set-up: offscreen Qt (also set by tests/conftest.py) and this folder's fakes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))

from gui.singleton_refs import pin_singletons

# GUI tests call PySide6 wrappers that lose references to None/True; without the pin the test
# process aborts (`none_dealloc`/`bool_dealloc`) once enough calls have been made.
pin_singletons()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "plexsync.sqlite3"


@pytest.fixture
def store(database: Path, clock: Any) -> Iterator[Any]:
    """A real store on `database`, timed by the requesting module's `clock` fixture."""
    from engine.store.jobs import JobStore

    s = JobStore(database, clock=clock)
    yield s
    s.close()
