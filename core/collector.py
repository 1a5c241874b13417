"""Pausing CPython's cyclic garbage collector over a block that makes many lasting objects.

The collector runs after every 700 net new container objects (lists, dicts, instances), and
traverses the whole heap whenever those that survived grew by a quarter. A bulk import keeps
every row alive until it is stored (its cells, its values, its Product): on 10,000 rows it
set off ~250 young collections and one or two full ones, ~0.1 s each on a Django process's
~120,000 objects, a quarter of the import. None of those objects is cyclic garbage, and
reference counting frees them as ever while the collector is paused; it resumes when the last
pause ends (pauses in several threads nest), and finds the block's few cycles (a caught
ValidationError refers to itself) at its next run."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0  # blocks in any thread now inside `paused`
_was_enabled = False  # the collector's state when the first of them began


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block (and any other thread's paused block)."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
