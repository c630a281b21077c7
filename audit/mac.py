"""A MAC on every entry, computed by the application in the transaction that writes it, under a
key the database never sees (derived from BG_HASH_KEY). Someone with database rights alone can
insert rows and edit them, triggers off, and even recompute the hash chain; they cannot make a
MAC that matches, so `audit verify` names such an entry, sealed or not.

The MAC covers a nonce (the entry's id is not known before it is inserted; the nonce makes each
MAC unique, so a copied row shows as a copy), the time, the metadata and the ciphertext (which
carries its data key's id). The nonce is the time in microseconds, then 72 random bits: unique
all the same, and the unique index that refuses copies grows at its end, as the id's does, rather
than at a random page (each a page more to write back, and to log in full once after each
checkpoint).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.core.catalogues import as_plain_json
from settings import get_settings

_VERSION = "v1"
_EPOCH, _MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)
FIELDS = (
    "actor_type",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "request_id",
    "subject",
    "payload",
)


def derive_key(hash_key: bytes) -> bytes:
    """A key of its own (HKDF): a MAC and an IBAN's keyed hash never share one."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"billing-gateway audit entry mac"
    ).derive(hash_key)


def keyed(mac_key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256 under `mac_key` (RFC 2104) as its inner and outer hashes, each keyed once:
    a copy of both per entry costs less than a copy of an `hmac` object (which wraps them)."""
    if len(mac_key) > 64:
        raise ValueError("a MAC key longer than SHA-256's block is hashed first: not done here")
    block = mac_key.ljust(64, b"\0")  # SHA-256's block; derive_key() gives 32 bytes
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in block))
    return inner, hashlib.sha256(bytes(byte ^ 0x5C for byte in block))


@functools.cache
def _keyed() -> tuple[Any, Any]:
    return keyed(derive_key(get_settings().keys.hash_key))


_ENCODER = msgspec.json.Encoder(enc_hook=as_plain_json)


def micros_of(occurred: datetime) -> int:
    return (occurred - _EPOCH) // _MICROSECOND  # what PostgreSQL keeps, exactly


def _digest(nonce: str, micros: int, fields: Sequence[Any]) -> str:
    """`fields`: the values of FIELDS, in order."""
    inner, outer = _keyed()
    inner, outer = inner.copy(), outer.copy()
    inner.update(_ENCODER.encode([nonce, micros, *fields]))
    outer.update(inner.digest())
    return str(outer.hexdigest())


def new_mac(micros: int, random: bytes, fields: Sequence[Any]) -> str:
    """The MAC of a new entry written at `micros` (`micros_of` its time): `fields` are the
    values of FIELDS, in order, `random` 9 random bytes."""
    nonce = f"{micros:014x}{random.hex()}"  # 32 hex digits, as before
    return f"{_VERSION}:{nonce}:{_digest(nonce, micros, fields)}"


def entry_mac(occurred: datetime, fields: Sequence[Any]) -> str:
    """The MAC of a new entry: `fields` are the values of FIELDS, in order."""
    return new_mac(micros_of(occurred), os.urandom(9), fields)


def mac_matches(row: Mapping[str, Any]) -> bool:
    get = row.get
    fields = tuple(map(get, FIELDS))
    return mac_matches_values(get("mac"), row["occurred_at"], fields)


def mac_matches_values(mac: str | None, occurred: datetime, fields: Sequence[Any]) -> bool:
    """Whether `mac` is the MAC of an entry written at `occurred` with `fields`, the values of
    FIELDS in order (verify() reads them from each row by position)."""
    version, _, rest = str(mac or "").partition(":")
    nonce, _, digest = rest.partition(":")
    if version != _VERSION or not nonce or not digest:
        return False
    return hmac.compare_digest(digest, _digest(nonce, micros_of(occurred), fields))
