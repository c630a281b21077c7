"""Zuora's own Python SDK (`zuora-sdk`, MIT, generated from Zuora's API description) in a virtual
environment of its own, `.venv-zuora-sdk` at the project's root (git-ignored, removed by
`make clean`, made by `make zuora-sdk` or by the first test that needs it): it pins old urllib3
and certifi, which the project's environment must not get. Tests talk to it through
`tests/contract/zuora_sdk_check.py`, run inside it, JSON in and out.

A test skips only when the package index cannot be reached; any other failure to install fails.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SDK_VERSION = "3.21.0"
ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-zuora-sdk"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / f".installed-{SDK_VERSION}"
CHECKER = ROOT / "tests" / "contract" / "zuora_sdk_check.py"
UNREACHABLE = (
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "Max retries exceeded",
    "ProxyError",
)


def sdk_python() -> Path:
    """The SDK environment's interpreter, installing it first if needed (once, under a lock)."""
    with open(ROOT / ".venv-zuora-sdk.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not STAMP.exists():
            _install()
    return PYTHON


def _install() -> None:
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    pip = subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", f"zuora-sdk=={SDK_VERSION}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if pip.returncode != 0:
        output = pip.stdout + pip.stderr
        if any(sign in output for sign in UNREACHABLE):
            pytest.skip(
                f"the package index cannot be reached to install zuora-sdk: {output[-300:]}"
            )
        raise AssertionError(f"installing zuora-sdk=={SDK_VERSION} failed:\n{output}")
    STAMP.touch()


def check_calls(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """What the SDK's models say about `calls` (see zuora_sdk_check.py for the shapes)."""
    answer = subprocess.run(
        [str(sdk_python()), str(CHECKER)],
        input=json.dumps({"calls": calls}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    result: dict[str, Any] = json.loads(answer.stdout)
    return result
