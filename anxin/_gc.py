"""Pausing Python's cyclic garbage collector around bulk object creation.

Building hundreds of thousands of small lists, dicts and strings (the reasons
of a month's warnings) wakes the cyclic collector again and again; none of
these objects form cycles, so it is paused while they are made.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused"]


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Disable the cyclic garbage collector inside the block (re-entrant).

    Examples
    --------
    >>> import gc
    >>> with paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
