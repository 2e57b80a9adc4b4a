"""A long-running tray survives PySide6 wrappers that lose references to None and True."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gui.singleton_refs import PIN, needs_pinning, pin_singletons

ROOT = Path(__file__).resolve().parents[2]

# What the tray does all day, many times over: relay engine events as signals, set tooltips,
# re-check menu entries, repaint, process events. Each call used to cost None or True a reference.
CHILD = textwrap.dedent(
    """
    import sys
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QApplication, QWidget
    from engine.events import Progress
    from gui.bridge import EngineBridge
    from gui.singleton_refs import pin_singletons

    app = QApplication([])
    if sys.argv[1] == "pin":
        pin_singletons()
    bridge = EngineBridge()
    widget, action = QWidget(), QAction("x")
    for n in range(5000):
        bridge.listener.progress_changed(Progress(n, 5000, 1.0))
        widget.setToolTip(str(n))
        action.setChecked(n % 2 == 0)
        widget.update()
        app.processEvents()
    print("done")
    """
)


def run_child(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, mode],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
    )


def test_a_busy_process_exits_cleanly_with_the_singletons_pinned() -> None:
    done = run_child("pin")
    assert "Fatal Python error" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr[-2000:]


def test_pinning_is_what_keeps_it_alive() -> None:
    """The same work without the pin dies: the library bug is real here, not hypothetical."""
    if not needs_pinning():
        return  # immortal singletons (CPython 3.12+): nothing can go wrong either way
    done = run_child("none")
    if done.returncode == 0:
        pytest.skip("this PySide6 no longer loses references to None/True")
    assert "_dealloc: deallocating" in done.stderr


def test_pinned_singletons_have_room_for_a_lifetime_of_lost_references() -> None:
    assert pin_singletons()
    if needs_pinning():
        assert all(sys.getrefcount(value) > PIN for value in (None, True, False))
