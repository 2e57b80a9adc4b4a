"""Ticks and store reads close what they open: fds stay flat under a low RLIMIT_NOFILE."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("fd_soak_child.py")
FD_LIMIT = 256  # a leak of one connection per tick (two or three fds) exhausts it long before
TICKS = 300


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts fds through /proc")
def test_engine_ticks_and_store_reads_keep_open_fds_flat(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(CHILD), str(FD_LIMIT), str(TICKS), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )
    assert done.stdout.strip(), f"the child printed nothing:\n{done.stderr[-3000:]}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for host in ("tray", "cli"):
        part = report[host]
        assert part["errors"] == [], f"{host}: {part['errors'][:3]}\n{done.stderr[-2000:]}"
        assert part["end"] == part["baseline"], f"{host}: open fds grew: {part}"
    assert report["tray"]["ticks"] >= TICKS
    assert done.returncode == 0, done.stderr[-3000:]
