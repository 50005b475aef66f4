"""Works around PySide6 6.12.0's `SignalInstance.emit()`, which returns `True` without a
new reference: every emit (ours, qasync's thread hand-offs, pytest-qt's) takes one reference
from `True`, and on Python 3.11, where `True` is not immortal, the interpreter aborts with
"bool_dealloc: deallocating True or False" after enough emits (minutes to hours of a running
app). pyproject.toml excludes 6.12.0; this guard protects an installation that has it anyway.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

# What CPython 3.12 does for its singletons: a count no program can run down.
_IMMORTAL_REFS = 1 << 40
_applied = False


def emit_leaks_true() -> bool:
    """Whether emitting a Python-defined signal takes a reference from `True`."""
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        ping = Signal()

    probe = Probe()
    before = sys.getrefcount(True)
    for _ in range(4):
        probe.ping.emit()
    return sys.getrefcount(True) < before


def guard_signal_emit_refcount() -> bool:
    """Makes `True` effectively immortal when this PySide6 has the bug; True if applied."""
    global _applied
    if _applied or sys.version_info >= (3, 12):
        return _applied
    if not emit_leaks_true():
        return False
    # ob_refcnt is the first field of every PyObject (a Py_ssize_t) in CPython.
    ctypes.c_ssize_t.from_address(id(True)).value += _IMMORTAL_REFS
    _applied = True
    log.warning("PySide6 signal emit leaks references to True (PySide6 6.12.0): guarded")
    return True
