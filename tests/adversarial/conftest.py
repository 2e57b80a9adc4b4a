"""The adversarial tier: faults, fuzzed input and local attackers, run in CI like every tier."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).parent
sys.path.insert(0, str(_HERE.parent / "unit"))  # the in-memory Plex and Stash (engine_fakes)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.adversarial)
