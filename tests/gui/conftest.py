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

from gui.signal_refs import repair_signal_emit

# Every GUI test emits signals; without the repair the test process aborts at exit
# (`bool_dealloc`) once enough emits have taken references away from True.
repair_signal_emit()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "plexsync.sqlite3"


@pytest.fixture
def store(database: Path, clock: Any) -> Iterator[Any]:
    """A real store on `database`, timed by the requesting module's `clock` fixture."""
    from engine.store import JobStore

    s = JobStore(database, clock=clock)
    yield s
    s.close()
