"""`make migration name=<slug>`: a new migration file Piccolo runs after every shipped one."""

from __future__ import annotations

import datetime
import importlib.util
from pathlib import Path

import pytest

from gateway.core.db import new_migration

_NOW = datetime.datetime(2027, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)


def test_the_skeleton_is_a_migration_identified_by_the_time(tmp_path: Path) -> None:
    path = new_migration.create("cheques_add_memo", _NOW, tmp_path)

    assert path.name == "gateway_2027_01_02t03_04_05_678901.py"
    spec = importlib.util.spec_from_file_location("skeleton", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.ID == "2027-01-02T03:04:05:678901"
    assert module.DESCRIPTION == "cheques_add_memo"
    assert module.FORWARDS == []
    assert max(path.name for path in new_migration.FOLDER.glob("gateway_*.py")) < path.name


def test_a_name_that_is_not_a_slug_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lower-case letters"):
        new_migration.create("Add memo; DROP", _NOW, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_migration_is_never_overwritten(tmp_path: Path) -> None:
    new_migration.create("first", _NOW, tmp_path)
    with pytest.raises(FileExistsError):
        new_migration.create("second", _NOW, tmp_path)


def test_the_command_says_what_to_do_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(new_migration, "FOLDER", tmp_path)

    assert new_migration.main(["add_memo"]) == 0
    assert "test_schema_drift.py" in capsys.readouterr().out
    assert new_migration.main(["Add memo"]) == 2


def test_a_clock_behind_the_latest_migration_still_sorts_the_new_one_last(tmp_path: Path) -> None:
    new_migration.create("shipped", _NOW, tmp_path)
    behind = _NOW - datetime.timedelta(days=7)  # this machine's clock, a week behind

    moment = new_migration.next_moment(behind, tmp_path)
    path = new_migration.create("next", moment, tmp_path)

    assert max(tmp_path.glob("gateway_*.py")) == path
    assert new_migration.next_moment(_NOW + datetime.timedelta(days=1), tmp_path) > moment
