"""The compiled screen in front of `Matcher.blocked` (`screen.c`): the matcher's base class,
or None where it was not compiled at install (no C compiler or no Python headers). The matcher
is then pure Python, with the same answers.

BG_FRAUD_NATIVE=0 in the environment leaves it out too, to run the tests or the bench
against the pure-Python matcher in the same checkout.

A module that is there but unusable (it does not load, or it was built from another version of
`screen.c` than the one beside it) is left out as well, with one warning line.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.fraud.native._screen import Screen as CompiledScreen

__all__ = ["Screen"]

MODULE = f"{__name__}._screen"
REBUILD = "run `make` or `python gateway/fraud/native/build.py`"
_log = logging.getLogger(__name__)


def _compiled() -> type[CompiledScreen] | None:
    if os.environ.get("BG_FRAUD_NATIVE") == "0":
        return None
    try:
        module = importlib.import_module(MODULE)
    except ImportError as error:
        if isinstance(error, ModuleNotFoundError) and error.name == MODULE:
            return None  # not built: no compiler at install
        _log.warning(  # there, but broken or built for another Python
            "fraud matcher: the C screen does not load (%s); the pure-Python matcher is used",
            error,
        )
        return None
    return module.Screen if _matches_its_source(module) else None


def _matches_its_source(module: ModuleType) -> bool:
    """Whether the module was built from the `screen.c` beside it, where there is one (not in a
    wheel's install, whose module was built with it): a checkout may have moved on since."""
    source = Path(module.__file__ or "").with_name("screen.c")
    try:
        expected = hashlib.sha256(source.read_bytes()).hexdigest()
    except FileNotFoundError:
        return True
    if getattr(module, "SOURCE_DIGEST", None) == expected:
        return True
    _log.warning(
        "fraud matcher: the C screen was built from another version of %s; the pure-Python "
        "matcher is used until it is rebuilt (%s)",
        source.name,
        REBUILD,
    )
    return False


Screen = _compiled()
