"""The compiled screen in front of `Matcher.blocked` (`screen.c`): the matcher's base class,
or None where it was not compiled at install (no C compiler or no Python headers). The matcher
is then pure Python, with the same answers.

BG_FRAUD_NATIVE=0 in the environment leaves it out too, to run the tests or the bench
against the pure-Python matcher in the same checkout.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.fraud.native._screen import Screen as CompiledScreen

__all__ = ["Screen"]


def _compiled() -> type[CompiledScreen] | None:
    if os.environ.get("BG_FRAUD_NATIVE") == "0":
        return None
    try:
        from gateway.fraud.native._screen import Screen as Compiled
    except ImportError:  # not built: no compiler at install
        return None
    return Compiled


Screen = _compiled()
