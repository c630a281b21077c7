"""The console commands as a new user runs them: no DATABASE_URL, so the embedded PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.emulators import free_port


def _environment(data_dir: Path, **extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment.update({"BG_DATA_DIR": str(data_dir), "BG_LOG_FORMAT": "console", **extra})
    return environment


def _gateway(data_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *arguments],
        env=_environment(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _postgres_running_in(data_dir: Path) -> bool:
    for process in psutil.process_iter(attrs=["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(data_dir) in " ".join(
            process.info["cmdline"] or []
        ):
            return True
    return False


def test_api_key_commands_on_the_embedded_database(tmp_path: Path) -> None:
    migrated = _gateway(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    created = _gateway(
        tmp_path,
        "api-key",
        "create",
        "--name",
        "zendesk-app",
        "--scope",
        "change-requests:read",
        "--expires-in-days",
        "30",
    )
    assert created.returncode == 0, created.stderr
    secret = re.search(r"bgk_[0-9a-f]{8}_\S+", created.stdout)
    assert secret is not None
    prefix = secret.group().split("_")[1]
    listed = _gateway(tmp_path, "api-key", "list")
    assert prefix in listed.stdout and "zendesk-app" in listed.stdout and "active" in listed.stdout
    assert secret.group() not in listed.stdout + listed.stderr
    revoked = _gateway(tmp_path, "api-key", "revoke", prefix, "--reason", "test over")
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in _gateway(tmp_path, "api-key", "list").stdout
    unknown = _gateway(tmp_path, "api-key", "revoke", "ffffffff", "--reason", "x")
    assert unknown.returncode == 1 and "No API key" in unknown.stderr
    bad_scope = _gateway(tmp_path, "api-key", "create", "--name", "x", "--scope", "everything")
    assert bad_scope.returncode == 2 and "'everything' is not one of" in bad_scope.stderr
    assert not _postgres_running_in(tmp_path), "each command stops the server it started"


def test_user_commands_manage_staff_accounts(tmp_path: Path) -> None:
    assert _gateway(tmp_path, "migrate").returncode == 0
    created = _gateway(
        tmp_path, "user", "create", "nina", "--email", "nina@example.com", "--role", "specialist"
    )
    assert created.returncode == 0, created.stderr
    assert "temporary password, shown once" in created.stdout
    password = created.stdout.strip().splitlines()[-1]
    assert len(password) >= 20
    assert (
        "nina                 specialist  active   mfa-pending"
        in _gateway(tmp_path, "user", "list").stdout
    )
    assert _gateway(tmp_path, "user", "set-role", "nina", "team_lead").returncode == 0
    deactivated = _gateway(tmp_path, "user", "deactivate", "nina")
    assert (
        "nina is deactivated; 0 session(s) ended, 0 open request(s) back in Triage."
        in deactivated.stdout
    )
    listed = _gateway(tmp_path, "user", "list").stdout
    assert "team_lead" in listed and "inactive" in listed and password not in listed
    taken = _gateway(
        tmp_path, "user", "create", "nina", "--email", "x@example.com", "--role", "admin"
    )
    assert taken.returncode == 1 and "already exists" in taken.stderr
    bad_role = _gateway(tmp_path, "user", "set-role", "nina", "boss")
    assert bad_role.returncode == 2 and "'boss' is not one of 'specialist'" in bad_role.stderr


def test_a_bad_setting_is_named_and_nothing_starts(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "migrate"],
        env=_environment(tmp_path, BG_MODE="production"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "BG_ENCRYPTION_KEYS" in result.stderr and "BG_HASH_KEY" in result.stderr
    assert not (tmp_path / "postgres").exists()


def test_run_serves_the_demo_with_a_printed_key(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "run"],
        env=_environment(tmp_path, BG_PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ""
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 90
        # the API is up, and the job worker runs in the same process
        # (the sandbox's Zuora emulator starts first, and says "Uvicorn running" on its own port)
        api_up = f"Uvicorn running on http://127.0.0.1:{port}"
        while not (api_up in output and "Starting worker" in output) and (
            time.monotonic() < deadline
        ):
            line = process.stdout.readline()
            if not line:
                break
            output += line
        assert "SANDBOX" in output, output
        assert "Starting worker" in output, "make run starts the job worker too"
        assert f"http://127.0.0.1:{port}/schema" in output
        key = re.search(r"export BG_API_KEY=(\S+)", output)
        assert key is not None, output
        listed = httpx.get(
            f"http://127.0.0.1:{port}/v1/change-requests",
            headers={"Authorization": f"Bearer {key.group(1)}"},
            timeout=10,
        )
        assert listed.status_code == 200
        assert {item["kind"] for item in listed.json()["items"]} == {"iban_change", "plan_change"}
        assert f"http://127.0.0.1:{port}/staff/login" in output
        assert "sam (specialist)" in output and "lee (team_lead)" in output
        assert "ada (admin)" in output and "password: sandbox-demo-password" in output
        sign_in = httpx.get(f"http://127.0.0.1:{port}/staff/login", timeout=10)
        assert sign_in.status_code == 200 and "SANDBOX" in sign_in.text
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert not _postgres_running_in(tmp_path), "stopping the gateway stops its database"
