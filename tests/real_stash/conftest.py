"""The real-Stash tier: the engine against a Stash that is already running (issue 21).

Collected only when PLEXSYNC_REAL_STASH_URL names it (with PLEXSYNC_REAL_STASH_API_KEY, or
PLEXSYNC_REAL_STASH_USERNAME and _PASSWORD for a Stash without a key yet); without it, nothing
here is collected, so CI neither runs nor skips it. The Stash must have a scanned library of at
least a few video files. The tests make their own tags, performers and studios (names start with
"PSR "), edit scanned scenes through GraphQL and remove what they made. Plex is our simulator,
holding one movie per scanned file. README, "Tests", says how to run it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

if not os.environ.get("PLEXSYNC_REAL_STASH_URL"):
    collect_ignore_glob = ["test_*.py"]
else:
    from stash_admin import RealStash

    @pytest.fixture(scope="session")
    def real_stash() -> Iterator[RealStash]:
        stash = RealStash.from_environment()
        try:
            yield stash
        finally:
            stash.remove_made()
            stash.close()
