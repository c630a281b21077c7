"""The deployment files stay deployable: the Dockerfile passes hadolint, compose.yaml the
compose spec, every `command:` of the stack is a real CLI command, and deploy/make-secrets.py
writes keys the settings accept and never replaces one (the data encrypted with it would be
lost)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from settings.keys import parse_key_ring, parse_signing_key

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_dockerfile_passes_hadolint() -> None:
    linted = run(str(BIN / "hadolint"), "Dockerfile")
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_compose_yaml_follows_the_compose_spec() -> None:
    checked = run(
        str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "compose.yaml"
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def gateway_commands() -> list[list[str]]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return [
        service["command"]
        for service in compose["services"].values()
        if service.get("image", "").startswith("billing-gateway")
    ]


@pytest.mark.parametrize("command", gateway_commands(), ids=" ".join)
def test_each_stack_command_is_a_command_of_the_gateway(command: list[str]) -> None:
    options = [word for word in command if word.startswith("--")]
    helped = run(str(BIN / "billing-gateway"), command[0], "--help")
    assert helped.returncode == 0, helped.stdout + helped.stderr
    assert all(option in helped.stdout for option in options), helped.stdout


def test_make_secrets_writes_working_keys_and_keeps_existing_ones(tmp_path: Path) -> None:
    secrets_dir = tmp_path / "secrets"
    script = str(ROOT / "deploy" / "make-secrets.py")
    assert run(sys.executable, script, str(secrets_dir)).returncode == 0

    def read(name: str) -> str:
        return (secrets_dir / name).read_text()

    parse_key_ring(read("BG_ENCRYPTION_KEYS"), read("BG_HASH_KEY"))
    parse_signing_key(read("BG_AUDIT_SIGNING_KEY"))
    assert read("DATABASE_URL").startswith(
        f"postgresql://billing_gateway_app:{read('db_app_password')}@postgres:5432/"
    )
    assert f":{read('db_owner_password')}@" in read("BG_MIGRATION_DATABASE_URL")
    assert read("BG_STRIPE_API_KEY") == ""  # the operator's to fill in
    before = {path.name: path.read_text() for path in secrets_dir.iterdir()}

    assert run(sys.executable, script, str(secrets_dir)).returncode == 0
    assert {path.name: path.read_text() for path in secrets_dir.iterdir()} == before
    assert secrets_dir.stat().st_mode & 0o077 == 0  # the operator's directory alone


def test_every_secret_compose_mounts_is_one_make_secrets_writes(tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert (
        run(sys.executable, str(ROOT / "deploy" / "make-secrets.py"), str(tmp_path)).returncode == 0
    )
    for name, secret in compose["secrets"].items():
        assert secret["file"] == f"./deploy/secrets/{name}"
        assert (tmp_path / name).is_file(), name
