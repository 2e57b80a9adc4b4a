"""Repairs a reference-count bug in PySide6's `SignalInstance.emit` (seen with 6.12, Python 3.11).

`emit()` returns `True` without owning a reference to it, so every emit whose result is dropped
takes one reference away from the `True` singleton. After enough emits (or when the interpreter
releases everything at exit) its count reaches zero and Python aborts with
`Fatal Python error: bool_dealloc`. `repair_signal_emit()` measures whether this PySide6 has the
bug and, only then, wraps `emit` so that it adds the missing reference. Call it once, on the main
thread, before any other thread emits (the composition root and the GUI tests' conftest do).
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

PROBE_EMITS = 16

_lock = threading.Lock()
_repaired: bool | None = None


class _Probe(QObject):
    fired = Signal()


def emit_drops_references(emits: int = PROBE_EMITS) -> bool:
    """Whether a dropped `emit()` result costs `True` one reference in this PySide6."""
    probe = _Probe()
    emit = SignalInstance.emit
    before = sys.getrefcount(True)
    for _ in range(emits):
        emit(probe.fired)
    lost = before - sys.getrefcount(True)
    probe.deleteLater()
    for _ in range(max(0, lost)):
        _incref(True)  # pay back what the probe itself took
    return lost >= emits


def _incref(value: object) -> None:
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(value))


def _owned(emit: Callable[..., Any]) -> Callable[..., Any]:
    def emit_owning_result(self: SignalInstance, *args: Any) -> Any:
        result = emit(self, *args)
        _incref(result)  # the reference emit() should have returned
        return result

    emit_owning_result.__doc__ = emit.__doc__
    return emit_owning_result


def repair_signal_emit() -> bool:
    """Wrap `SignalInstance.emit` if it drops references; True when the repair is in place."""
    global _repaired
    with _lock:
        if _repaired is None:
            _repaired = emit_drops_references()
            if _repaired:
                SignalInstance.emit = _owned(SignalInstance.emit)  # type: ignore[method-assign]
        return _repaired
