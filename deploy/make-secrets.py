#!/usr/bin/env python3
"""Write the secret files compose.yaml mounts (one file per variable, read through
BG_SECRETS_DIR): the keys in the formats settings/keys.py parses, and the database roles'
passwords with the URLs that use them. Provider credentials are left as empty files for the
operator to fill in. An existing file is never overwritten: new keys would make the data
already encrypted, hashed or signed with the old ones unreadable.

    python3 deploy/make-secrets.py [DIRECTORY]    # default: deploy/secrets beside this file

Standard library only, so it runs on the host before anything is installed.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

DATABASE = "billing_gateway"
OWNER_ROLE = "billing_gateway_owner"  # deploy/postgres-init.sh creates both roles
APP_ROLE = "billing_gateway_app"
DATABASE_HOST = "postgres:5432"  # the compose service
# Given by the providers, not generated: empty until the operator writes them.
PROVIDER_SECRETS = (
    "BG_ZUORA_PASSWORD",
    "BG_ZUORA_CALLOUT_SECRETS",
    "BG_STRIPE_API_KEY",
    "BG_STRIPE_WEBHOOK_SECRETS",
)


def random_key() -> str:
    """32 random bytes in base64: an AES-256 key, a hash key or an Ed25519 seed."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def generated(directory: Path) -> dict[str, str]:
    """Every generated value; passwords already written are reused for the URLs."""

    def password(name: str) -> str:
        existing = directory / name
        return existing.read_text().strip() if existing.exists() else secrets.token_urlsafe(32)

    owner_password, app_password = password("db_owner_password"), password("db_app_password")
    key_id = datetime.now(UTC).strftime("k%Y%m%d")  # the ring's first key encrypts
    return {
        "BG_ENCRYPTION_KEYS": f"{key_id}:{random_key()}",
        "BG_HASH_KEY": random_key(),
        "BG_AUDIT_SIGNING_KEY": random_key(),
        "postgres_password": password("postgres_password"),
        "db_owner_password": owner_password,
        "db_app_password": app_password,
        "DATABASE_URL": f"postgresql://{APP_ROLE}:{app_password}@{DATABASE_HOST}/{DATABASE}",
        "BG_MIGRATION_DATABASE_URL": (
            f"postgresql://{OWNER_ROLE}:{owner_password}@{DATABASE_HOST}/{DATABASE}"
        ),
        **dict.fromkeys(PROVIDER_SECRETS, ""),
    }


def write_secrets(directory: Path) -> list[str]:
    """Write the missing files; the names written. The directory is the operator's alone
    (0700); the files are readable by all (0444) because compose bind-mounts each one into
    containers that run as other uids (postgres, the gateway's 10001)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    written = []
    for name, value in generated(directory).items():
        path = directory / name
        if path.exists():
            continue
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(value)
        path.chmod(0o444)  # whatever the umask
        written.append(name)
    return written


def main() -> None:
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "secrets"
    written = write_secrets(directory)
    print(f"{directory}: wrote {', '.join(written) if written else 'nothing (all there)'}")
    empty = [name for name in PROVIDER_SECRETS if not (directory / name).read_text().strip()]
    if empty:
        print(f"still empty, fill in those of the providers you use: {', '.join(empty)}")


if __name__ == "__main__":
    main()
