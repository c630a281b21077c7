"""Compiles `screen.c` into `_screen<EXT_SUFFIX>` beside it, with the compiler and flags this
Python was built with (`sysconfig`). Where that fails (no compiler, no Python headers) it says
so in one line and the build goes on: the matcher is then pure Python.

Two ways in:
- hatchling's build hook (`[tool.hatch.build.targets.wheel.hooks.custom]`), for `pip install
  -e .` and `pip wheel`: a wheel with the compiled screen is marked platform-specific;
- `python gateway/fraud/native/build.py`: compiles in place, for a checkout's tests and bench.
  It exits 0 after its warning, as the install goes on (`--strict`: 1).

The module holds the SHA-256 of the source it was built from (`SOURCE_DIGEST`), which
`__init__.py` checks against `screen.c` beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
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


# Warnings that mean a miscompiled module, not a style point: an undeclared function (a private
# one gone from a newer Python's headers) would be called with its result cut to an int.
# Errors, so the build falls back to pure Python instead. Not -Werror for all: a new compiler's
# new warning should not cost the screen (the tests compile with -Werror: STRICT_WARNINGS).
MISCOMPILES = [
    "-Werror=implicit-function-declaration",
    "-Werror=implicit-int",
    "-Werror=int-conversion",
    "-Werror=incompatible-pointer-types",
    "-Werror=return-type",
]
STRICT_WARNINGS = ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror"]


def digest(source: Path = SOURCE) -> str:
    """The SHA-256 of the source, as the module built from it holds it."""
    return hashlib.sha256(source.read_bytes()).hexdigest()


def command(output: Path, extra: tuple[str, ...] = ()) -> list[str]:
    """The compiler and linker in one call, as distutils would run them for this Python."""
    config = sysconfig.get_config_var
    linker = shlex.split(config("LDSHARED") or "cc -shared")
    if not shutil.which(linker[0]):  # built elsewhere with another compiler: try the usual one
        linker[0] = "cc"
    flags = shlex.split(config("CFLAGS") or "-O2") + shlex.split(config("CCSHARED") or "-fPIC")
    include = sysconfig.get_paths()["include"]
    source = [f'-DSCREEN_SOURCE_DIGEST="{digest()}"', f"-I{include}", str(SOURCE)]
    return [*linker, *flags, *MISCOMPILES, *extra, *source, "-o", str(output)]


def _readable_mode() -> int:
    """rwxr-xr-x less the umask, as a compiler's output would be: mkstemp's 0600 would keep
    other users (a service account) from loading the module."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o755 & ~umask


def _first_error(output: str) -> str:
    """The line that says what went wrong: the last is often a caret or a summary."""
    lines = output.strip().splitlines() or ["no message"]
    return next((line.strip() for line in lines if "error" in line), lines[-1])


def compile_screen(directory: Path = HERE, extra: tuple[str, ...] = ()) -> Path | None:
    """The compiled module's path, or None (after one warning line) where it cannot be built.

    A failed build also removes the module an earlier one left: it may be of another version
    of the source, and the warning says the pure-Python matcher will be used."""
    built = target(directory)
    # Written beside, then renamed: a process that has the old module loaded keeps its copy.
    handle, partial = tempfile.mkstemp(suffix=built.suffix, dir=directory)
    os.close(handle)
    try:
        done = subprocess.run(  # noqa: S603  (our compiler, our file: no outside input)
            command(Path(partial), extra), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise OSError(f"the compiler failed: {_first_error(done.stderr)}")
        os.chmod(partial, _readable_mode())
        os.replace(partial, built)
    except OSError as error:
        Path(partial).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # where it stays, the import refuses it (its digest)
            built.unlink(missing_ok=True)  # a process that has it loaded keeps its copy
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


def main(arguments: list[str]) -> int:
    """0 whether or not it compiled (`make run` goes on, pure Python); 1 under --strict."""
    parser = argparse.ArgumentParser(description="Compiles the fraud matcher's C screen.")
    parser.add_argument("--strict", action="store_true", help="exit 1 where it cannot compile")
    strict = parser.parse_args(arguments).strict
    return 1 if compile_screen() is None and strict else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
