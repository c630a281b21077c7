"""Building the fraud matcher's C screen (gateway/fraud/native/build.py): where it compiles, the
module loads and screens; where it cannot, the install goes on with one warning line."""

from __future__ import annotations

import importlib.util
import shlex
import shutil
import sysconfig
from pathlib import Path
from unittest import mock

import pytest

from gateway.fraud.native import build


def test_a_failed_compilation_warns_once_and_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock.patch.object(build, "command", lambda output: ["false", str(output)]):
        assert build.compile_screen(tmp_path) is None
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "the pure-Python matcher will be used" in warning[0]
    assert list(tmp_path.iterdir()) == []


def test_no_compiler_at_all_is_a_warning_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock.patch.object(build, "command", lambda output: ["/nonexistent/cc", str(output)]):
        assert build.compile_screen(tmp_path) is None
    assert "was not compiled" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    not shutil.which(shlex.split(sysconfig.get_config_var("LDSHARED") or "cc")[0])
    and not shutil.which("cc"),
    reason="no C compiler here: the pure-Python matcher is what an install would use",
)
def test_the_screen_compiles_with_this_pythons_compiler_and_loads(tmp_path: Path) -> None:
    built = build.compile_screen(tmp_path)
    assert built is not None and built.parent == tmp_path
    spec = importlib.util.spec_from_file_location("gateway.fraud.native._screen", built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

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
