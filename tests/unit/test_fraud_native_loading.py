"""Which screen a process runs (gateway/fraud/native/__init__.py): the compiled one only where
it was built from the `screen.c` beside it; otherwise the pure-Python matcher, with one warning
line where a module is there but cannot be used, and none where there is no module at all.

Each case imports a copy of the package (as `native`) in a fresh process, as a server would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.fraud.native import build

PACKAGE = Path(build.__file__).parent
needs_compiler = pytest.mark.skipif(
    shutil.which("cc") is None, reason="no C compiler: nothing compiled to load"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A module compiled from today's screen.c, once for the file."""
    directory = tmp_path_factory.mktemp("built")
    module = build.compile_screen(directory)
    if module is None:
        pytest.skip("the C screen does not compile here")
    return module


def package(root: Path, module: Path | None = None) -> Path:
    """`native`: this package's __init__.py and screen.c, and the module if any."""
    native = root / "native"
    native.mkdir()
    shutil.copy(PACKAGE / "__init__.py", native)
    shutil.copy(PACKAGE / "screen.c", native)
    if module is not None:
        shutil.copy(module, native / module.name)
    return native


def imported(root: Path, **environ: str) -> tuple[str, list[str]]:
    """What `native.Screen` is in a new process, and the lines it wrote to stderr."""
    env = {key: value for key, value in os.environ.items() if key != "BG_FRAUD_NATIVE"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import native; print(native.Screen.__name__ if native.Screen else None)",
        ],
        env={**env, "PYTHONPATH": str(root), **environ},
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip(), done.stderr.strip().splitlines()


@needs_compiler
def test_a_module_built_from_the_source_beside_it_is_used(tmp_path: Path, built: Path) -> None:
    package(tmp_path, built)
    assert imported(tmp_path) == ("Screen", [])


@needs_compiler
def test_a_module_of_another_source_is_not_used_and_says_how_to_rebuild(
    tmp_path: Path, built: Path
) -> None:
    """A checkout moved on (git checkout, a failed rebuild) without building the module."""
    native = package(tmp_path, built)
    source = native / "screen.c"
    source.write_text(source.read_text().replace("MISS = 0, UNSURE = 1", "MISS = 1, UNSURE = 0"))
    screen, warning = imported(tmp_path)
    assert screen == "None"
    assert len(warning) == 1 and "another version of screen.c" in warning[0]
    assert "gateway/fraud/native/build.py" in warning[0]


@needs_compiler
def test_a_module_without_its_source_beside_it_is_used(tmp_path: Path, built: Path) -> None:
    """An installed wheel: built with the source it came with."""
    (package(tmp_path, built) / "screen.c").unlink()
    assert imported(tmp_path) == ("Screen", [])


def test_a_module_that_does_not_load_is_not_used_and_says_so(tmp_path: Path) -> None:
    native = package(tmp_path)
    build.target(native).write_bytes(b"not a shared object")
    screen, warning = imported(tmp_path)
    assert screen == "None"
    assert len(warning) == 1 and "does not load" in warning[0]


def test_no_module_at_all_is_pure_python_without_a_word(tmp_path: Path) -> None:
    package(tmp_path)
    assert imported(tmp_path) == ("None", [])


@needs_compiler
def test_asking_for_pure_python_leaves_a_good_module_out(tmp_path: Path, built: Path) -> None:
    package(tmp_path, built)
    assert imported(tmp_path, BG_FRAUD_NATIVE="0") == ("None", [])
