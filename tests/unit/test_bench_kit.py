"""bench/kit.py: targets on figure / floor, kept results, regressions against the last run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

KIT = Path(__file__).resolve().parents[2] / "bench" / "kit.py"


@pytest.fixture
def kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # bench/ is scripts, not a package: load the file itself
    spec = importlib.util.spec_from_file_location("bench_kit_under_test", KIT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RESULTS_DIR", tmp_path)
    return module


def test_targets_are_on_the_ratio_and_bounds_on_the_value(kit: ModuleType) -> None:
    fast = kit.Ratio("filing", 200.0, "trivial", 1000.0, at_least=0.15)
    slow = kit.Ratio("filing", 100.0, "trivial", 1000.0, at_least=0.15)
    cheap = kit.Ratio("append", 1.4, "insert", 1.0, at_most=1.5)
    bound = kit.Bound("added p50", 2.5, "ms", at_most=3.0)
    assert kit.report("b", [fast, cheap, bound]) is True
    assert kit.report("b", [slow]) is False
    assert kit.report("b", [kit.Ratio("x", 1.0, "floor", 0.0, at_least=0.1)]) is False


def test_results_keep_checks_machine_and_the_last_ten_runs(kit: ModuleType, tmp_path: Path) -> None:
    for run in range(12):
        kit.report("b", [kit.Bound("p99", float(run), "ms", at_most=50.0)], {"run": run})
    kept = json.loads((tmp_path / "b.json").read_text())
    assert kept["figures"] == {"run": 11}
    assert kept["checks"][0]["measured"] == 11.0 and kept["checks"][0]["met"] is True
    assert set(kept["machine"]) == {"cpus", "load_average_before"}
    assert len(kept["history"]) == 10
    assert kept["history"][-1]["checks"][0]["measured"] == 10.0


def test_a_figure_worse_by_more_than_a_tenth_is_reported_not_failed(
    kit: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    kit.report("b", [kit.Ratio("screening", 70.0, "trivial", 100.0, at_least=0.5)])
    met = kit.report("b", [kit.Ratio("screening", 60.0, "trivial", 100.0, at_least=0.5)])
    assert met is True
    assert "regressed" in capsys.readouterr().out
    kit.report("b", [kit.Ratio("screening", 57.0, "trivial", 100.0, at_least=0.5)])
    assert "regressed" not in capsys.readouterr().out  # 5 % worse: noise


def test_a_results_file_from_before_the_kit_is_replaced(kit: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text('{"load_filing": {"per_s": 400}}')
    assert kit.report("b", [kit.Bound("n", 0.0, "answers", at_most=0.0)]) is True
    assert json.loads((tmp_path / "b.json").read_text())["history"] == []
