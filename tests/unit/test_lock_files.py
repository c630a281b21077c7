"""requirements/*.lock match pyproject.toml: a range changed without `make lock` fails here,
not on a newcomer's machine. Each lock pins every declared package with `==`, inside its range,
with hashes (pip installs them with --require-hashes)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Which extras each lock resolves (the Makefile's `lock` target).
LOCKS = {"app": (), "sandbox": ("sandbox",), "dev": ("sandbox", "dev")}
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


def declared(extras: tuple[str, ...]) -> list[Requirement]:
    lines = PROJECT["dependencies"] + [
        line for extra in extras for line in PROJECT["optional-dependencies"][extra]
    ]
    return [Requirement(line) for line in lines]


def locked_entries(lock: str) -> list[str]:
    """The lock's entries, each the pin line with its hash lines (comments dropped)."""
    entries: list[str] = []
    for line in (ROOT / "requirements" / f"{lock}.lock").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace() and entries:
            entries[-1] += "\n" + line
        else:
            entries.append(line)
    return entries


def pins(lock: str) -> dict[str, set[Version]]:
    found: dict[str, set[Version]] = {}
    for entry in locked_entries(lock):
        pin = _PIN.match(entry)
        assert pin, f"requirements/{lock}.lock: {entry.splitlines()[0]!r} is not pinned with =="
        name = canonicalize_name(pin["name"])
        found.setdefault(name, set()).add(Version(pin["version"]))
    return found


def mismatches(requirements: list[Requirement], locked: dict[str, set[Version]]) -> list[str]:
    problems = []
    for requirement in requirements:
        versions = locked.get(canonicalize_name(requirement.name))
        if not versions:
            problems.append(f"{requirement.name} is not in it")
        elif not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            shown = ", ".join(str(version) for version in sorted(versions))
            problems.append(f"{requirement.name} is locked at {shown}, outside {requirement}")
    return problems


@pytest.mark.parametrize("lock", LOCKS)
def test_every_declared_package_is_locked_inside_its_range(lock: str) -> None:
    problems = mismatches(declared(LOCKS[lock]), pins(lock))
    assert not problems, (
        f"requirements/{lock}.lock does not match pyproject.toml ({'; '.join(problems)}): "
        "run `make lock` and commit the lock files"
    )


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_package_carries_hashes(lock: str) -> None:
    unhashed = [
        entry.splitlines()[0] for entry in locked_entries(lock) if "--hash=sha256:" not in entry
    ]
    assert not unhashed, f"requirements/{lock}.lock lacks hashes for {unhashed}: run `make lock`"


def test_a_range_changed_without_make_lock_is_caught() -> None:
    locked = pins("app")
    newer = f"litestar>{max(locked['litestar'])}"
    added = "a-package-nobody-locked>=1"
    assert mismatches([Requirement(newer), Requirement(added)], locked) == [
        f"litestar is locked at {max(locked['litestar'])}, outside {newer}",
        "a-package-nobody-locked is not in it",
    ]
