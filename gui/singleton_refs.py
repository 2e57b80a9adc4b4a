"""Keeps `None`, `True` and `False` alive whatever PySide6 does to their reference counts.

With PySide6 6.12 on CPython 3.11, several wrappers hand back one of these singletons without
owning a reference to it: `SignalInstance.emit()` returns `True`, and `QWidget.setToolTip`,
`update`, `setAccessibleName`, `QAction.setChecked` and `QCoreApplication.processEvents` return
`None`, each taking one reference away per call. The count reaches zero after enough calls (a
tray soak died after 11 minutes, `none_dealloc`) or when the interpreter releases everything at
exit (the idle-SIGTERM abort, `bool_dealloc`). CPython 3.12 made these objects immortal; on
older versions `pin_singletons()` does the equivalent once, at start-up: it adds a reference
count so large that no process lifetime can use it up. Nothing else changes.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading

logger = logging.getLogger(__name__)

# 2**48 references: at a million lost references a second, nine years of headroom, and far
# from overflowing the 64-bit count.
PIN = 1 << 48
SINGLETONS = (None, True, False)

_lock = threading.Lock()
_pinned = False


def needs_pinning() -> bool:
    """Immortal objects (PEP 683, CPython 3.12) cannot be freed; older versions need the pin."""
    return sys.implementation.name == "cpython" and sys.version_info < (3, 12)


def pin_singletons() -> bool:
    """Pin the singletons once (idempotent); True when they are safe from lost references."""
    global _pinned
    with _lock:
        if _pinned or not needs_pinning():
            return True
        for value in SINGLETONS:
            count = ctypes.c_ssize_t.from_address(id(value))  # ob_refcnt leads every object
            count.value += PIN
        _pinned = True
        logger.debug("None, True and False pinned against lost references")
        return True
