"""Building the fraud matcher's C screen (gateway/fraud/native/build.py): where it compiles, the
module loads and screens; where it cannot, the install goes on with one warning line, and no
module of an older build is left to be loaded."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from gateway.fraud.native import build

ROOT = Path(__file__).resolve().parents[2]
has_compiler = pytest.mark.skipif(
    not shutil.which(shlex.split(sysconfig.get_config_var("LDSHARED") or "cc")[0])
    and not shutil.which("cc"),
    reason="no C compiler here: the pure-Python matcher is what an install would use",
)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_failed_compilation_warns_once_and_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = build.target(tmp_path)
    stale.write_bytes(b"a module an earlier build left")
    with mock.patch.object(build, "command", lambda output, extra=(): ["false", str(output)]):
        assert build.compile_screen(tmp_path) is None
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "the pure-Python matcher will be used" in warning[0]
    assert list(tmp_path.iterdir()) == []  # the stale module too: it may be of another source


def test_no_compiler_at_all_is_a_warning_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command = lambda output, extra=(): ["/nonexistent/cc", str(output)]  # noqa: E731
    with mock.patch.object(build, "command", command):
        assert build.compile_screen(tmp_path) is None
    assert "was not compiled" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def script_copy(directory: Path, source: str) -> Path:
    """build.py and a screen.c beside it: the script builds where it lies."""
    shutil.copy(Path(build.__file__), directory / "build.py")
    (directory / "screen.c").write_text(source)
    return directory / "build.py"


@pytest.mark.parametrize(("arguments", "code"), [([], 0), (["--strict"], 1)])
def test_the_script_goes_on_when_it_cannot_compile_unless_strict(
    tmp_path: Path, arguments: list[str], code: int
) -> None:
    """`make run` runs it: a machine without a compiler gets a warning, not a stop."""
    script = script_copy(tmp_path, '#error "no screen here"\n')
    build.target(tmp_path).write_bytes(b"a module an earlier build left")
    done = subprocess.run(
        [sys.executable, str(script), *arguments], capture_output=True, text=True, check=False
    )
    assert done.returncode == code
    assert len(done.stderr.strip().splitlines()) == 1 and "not compiled" in done.stderr
    assert not build.target(tmp_path).exists()


@has_compiler
def test_the_script_builds_a_module_any_user_can_load(tmp_path: Path, umask_022: None) -> None:
    script = script_copy(tmp_path, build.SOURCE.read_text())
    done = subprocess.run(
        [sys.executable, str(script), "--strict"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(build.target(tmp_path).stat().st_mode) == 0o755


@has_compiler
def test_the_screen_compiles_without_a_warning(tmp_path: Path) -> None:
    """-Wall -Wextra -Werror here; the install is strict only about what miscompiles."""
    assert build.compile_screen(tmp_path, tuple(build.STRICT_WARNINGS)) is not None


def test_the_screen_calls_no_private_python_function() -> None:
    """A private function can leave a newer Python's headers (as _Py_HashBytes did in 3.13),
    and the module then answers wrongly or does not build: none of them, then."""
    code = re.sub(r"/\*.*?\*/", "", build.SOURCE.read_text(), flags=re.DOTALL)
    assert re.findall(r"\b_Py[A-Za-z]\w*", code) == []


@has_compiler
def test_the_screen_compiles_with_this_pythons_compiler_and_loads(
    tmp_path: Path, umask_022: None
) -> None:
    built = build.compile_screen(tmp_path)
    assert built is not None and built.parent == tmp_path
    assert stat.S_IMODE(built.stat().st_mode) == 0o755  # not mkstemp's 0600
    spec = importlib.util.spec_from_file_location("gateway.fraud.native._screen", built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert build.digest() == module.SOURCE_DIGEST

    class Tables(module.Screen):  # type: ignore[name-defined, misc]
        def blocked_in_python(self, kind: str, value: str, now: float | None = None) -> bool:
            return True  # every candidate: what the C screen cannot settle comes here

    tables = Tables()
    tables._hot, tables._hot_mask = bytearray(1024), 1023
    tables._v4_blocks = tables._v6_blocks = bytearray(1 << 21)
    tables._bins = bytearray(1 << 17)
    assert tables.blocked("ip", "192.0.2.1") is False  # an empty block: settled in C
    assert tables.blocked("ip", "not an address") is True  # Python's to refuse
    tables._v4_blocks[(0xC0000201 >> 8) >> 3] = 0xFF
    assert tables.blocked("ip", "192.0.2.1") is True


def test_a_module_built_in_the_checkout_stays_out_of_the_docker_context() -> None:
    """.gitignore does not reach the Docker build context: a host's module (for the host's
    Python) would be copied into the image."""
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    module = build.target().relative_to(ROOT).as_posix()
    assert any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns), module
