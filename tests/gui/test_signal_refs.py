"""Emitting signals never takes references away from `True` (the idle-SIGTERM abort)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from gui.signal_refs import emit_drops_references, repair_signal_emit

ROOT = Path(__file__).resolve().parents[2]


class _Sender(QObject):
    happened = Signal(object)


def test_emits_leave_the_reference_count_of_true_alone() -> None:
    repair_signal_emit()
    sender = _Sender()
    seen: list[object] = []
    sender.happened.connect(seen.append)
    before = sys.getrefcount(True)
    for n in range(2000):
        sender.happened.emit(n)
    # Other code may take or drop a reference meanwhile; the bug drops one per emit (2000).
    assert abs(sys.getrefcount(True) - before) < 10
    assert len(seen) == 2000
    assert not emit_drops_references()  # once repaired, the probe sees no loss


def test_a_process_that_emitted_many_signals_exits_cleanly() -> None:
    """What the tray does between start and SIGTERM: engine events relayed as signals."""
    script = textwrap.dedent(
        """
        import sys
        from PySide6.QtCore import QCoreApplication
        from gui.signal_refs import repair_signal_emit
        from gui.bridge import EngineBridge
        from engine.events import Progress

        app = QCoreApplication([])
        repair_signal_emit()
        bridge = EngineBridge()
        for n in range(5000):
            bridge.listener.progress_changed(Progress(n, 5000, 1.0))
        app.processEvents()
        print("done")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert "Fatal Python error" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr[-2000:]
