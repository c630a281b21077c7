"""Third-party reference files, read from ../shared/fixtures (see SOURCES.md there); never copied
into the project. A test that needs one and cannot find it skips, naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
ZUORA_WSDL = FIXTURES / "zuora" / "zuora.a.84.0.wsdl"


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"reference file missing: {path} (see ../shared/fixtures/SOURCES.md)")
    return path
