"""Compiles `screen.c` into `_screen<EXT_SUFFIX>` beside it, with the compiler and flags this
Python was built with (`sysconfig`). Where that fails (no compiler, no Python headers) it says
so in one line and the build goes on: the matcher is then pure Python.

Two ways in:
- hatchling's build hook (`[tool.hatch.build.targets.wheel.hooks.custom]`), for `pip install
  -e .` and `pip wheel`: a wheel with the compiled screen is marked platform-specific;
- `python gateway/fraud/native/build.py`: compiles in place, for a checkout's tests and bench.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "screen.c"
WHEEL_DIR = "gateway/fraud/native"  # where the module lies inside the wheel

if TYPE_CHECKING:  # hatchling is the build backend, not a dependency of the checkout
    _Hook = object
else:
    try:
        from hatchling.builders.hooks.plugin.interface import BuildHookInterface as _Hook
    except ImportError:  # run as a script: only `compile_screen` is used
        _Hook = object


def target(directory: Path = HERE) -> Path:
    return directory / f"_screen{sysconfig.get_config_var('EXT_SUFFIX') or '.so'}"


def command(output: Path) -> list[str]:
    """The compiler and linker in one call, as distutils would run them for this Python."""
    config = sysconfig.get_config_var
    linker = shlex.split(config("LDSHARED") or "cc -shared")
    if not shutil.which(linker[0]):  # built elsewhere with another compiler: try the usual one
        linker[0] = "cc"
    flags = shlex.split(config("CFLAGS") or "-O2") + shlex.split(config("CCSHARED") or "-fPIC")
    include = sysconfig.get_paths()["include"]
    return [*linker, *flags, f"-I{include}", str(SOURCE), "-o", str(output)]


def compile_screen(directory: Path = HERE) -> Path | None:
    """The compiled module's path, or None (after one warning line) where it cannot be built."""
    built = target(directory)
    # Written beside, then renamed: a process that has the old module loaded keeps its copy.
    handle, partial = tempfile.mkstemp(suffix=built.suffix, dir=directory)
    os.close(handle)
    try:
        done = subprocess.run(  # noqa: S603  (our compiler, our file: no outside input)
            command(Path(partial)), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise OSError(f"the compiler failed: {last}")
        os.replace(partial, built)
    except OSError as error:
        Path(partial).unlink(missing_ok=True)
        print(
            f"warning: the fraud matcher's C screen was not compiled ({error}); "
            "the pure-Python matcher will be used",
            file=sys.stderr,
        )
        return None
    return built


class ScreenBuildHook(_Hook):
    """hatchling's custom build hook: compiles the screen before each wheel is built."""

    PLUGIN_NAME = "custom"
    target_name: str  # given by hatchling

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        built = compile_screen()
        if built is None or self.target_name != "wheel":
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":  # an editable install imports it from the source tree
            build_data["force_include"][str(built)] = f"{WHEEL_DIR}/{built.name}"


if __name__ == "__main__":
    sys.exit(0 if compile_screen() else 1)
