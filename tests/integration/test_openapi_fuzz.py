"""Schemathesis over the served OpenAPI document, with auth, against the real server.

Every check schemathesis has runs (all are on by default; schemathesis.toml beside this file
says which one is off and why) (no 5xx, documented statuses and content types, bodies that
match their schemas, required headers and auth enforced, invalid data refused) in all of its
phases, including the stateful one. The CLI is used because schemathesis' pytest plugin does
not yet work with pytest 9.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.database import LiveServer, auth


def test_api_answers_every_generated_request_as_documented(
    live_server: LiveServer, api_key: str
) -> None:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(Path(__file__).parent / "schemathesis.toml"),
        "run",
        f"{live_server.base_url}/schema/openapi.json",
        "--header",
        f"Authorization: {auth(api_key)['Authorization']}",
        "--max-examples",
        "40",
        "--seed",
        "1",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
