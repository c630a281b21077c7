"""Key material for data at rest: parsed from settings or generated for the sandbox."""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KeyMaterial:
    encryption_keys: dict[str, bytes]  # key id -> 32-byte AES key
    active_key_id: str
    hash_key: bytes


def _decode(value: str, what: str, minimum: int) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError(f"{what} is not valid base64") from None
    if len(raw) < minimum:
        raise ValueError(f"{what} must decode to at least {minimum} bytes")
    return raw


def parse_key_ring(encryption_keys: str, hash_key: str) -> KeyMaterial:
    ring: dict[str, bytes] = {}
    for item in encryption_keys.split(","):
        key_id, _, value = item.strip().partition(":")
        if not key_id or not value:
            raise ValueError("BG_ENCRYPTION_KEYS must look like 'id:base64key,id2:base64key'")
        if key_id in ring:
            raise ValueError(f"BG_ENCRYPTION_KEYS names key {key_id!r} twice")
        key = _decode(value, f"BG_ENCRYPTION_KEYS key {key_id!r}", 32)
        if len(key) != 32:
            raise ValueError(f"BG_ENCRYPTION_KEYS key {key_id!r} must be 32 bytes (AES-256)")
        ring[key_id] = key
    active = encryption_keys.split(",")[0].strip().partition(":")[0]
    return KeyMaterial(ring, active, _decode(hash_key, "BG_HASH_KEY", 32))


def load_or_create_sandbox_keys(path: Path) -> KeyMaterial:
    """Generate keys on first start and reuse them after, so sandbox data stays readable."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        material = {
            "encryption_keys": f"sandbox-1:{base64.b64encode(secrets.token_bytes(32)).decode()}",
            "hash_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(material, handle)
    stored = json.loads(path.read_text())
    return parse_key_ring(stored["encryption_keys"], stored["hash_key"])


def load_or_create_sandbox_signing_key(path: Path) -> bytes:
    """The sandbox's Ed25519 seed for audit checkpoints, kept beside its other keys (added to
    an older keys file the first time it is needed)."""
    load_or_create_sandbox_keys(path)
    stored = json.loads(path.read_text())
    if "audit_signing_key" not in stored:
        stored["audit_signing_key"] = base64.b64encode(secrets.token_bytes(32)).decode()
        replacement = path.with_suffix(".tmp")
        descriptor = os.open(replacement, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(stored, handle)
        replacement.replace(path)
    return parse_signing_key(stored["audit_signing_key"])


def parse_signing_key(value: str) -> bytes:
    seed = _decode(value, "BG_AUDIT_SIGNING_KEY", 32)
    if len(seed) != 32:
        raise ValueError("BG_AUDIT_SIGNING_KEY must be 32 bytes (an Ed25519 seed), base64")
    return seed
