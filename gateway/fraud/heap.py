"""Giving freed heap back to the system after the blocklist is loaded.

Loading a million entries grows the matcher's arrays step by step; glibc keeps the freed
steps (tens of MB) in the process unless asked. The mirror asks after each full load.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

__all__ = ["return_free_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc: nothing to ask
        return None
    return trim


def return_free_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
