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
from collections.abc import Sequence
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


@functools.cache
def _keyed() -> Any:
    return hmac.new(derive_key(get_settings().keys.hash_key), digestmod=hashlib.sha256)


def _micros(occurred: datetime) -> int:
    return (occurred - _EPOCH) // _MICROSECOND  # what PostgreSQL keeps, exactly


def _digest(nonce: str, occurred: datetime, fields: Sequence[Any]) -> str:
    """`fields`: the values of FIELDS, in order."""
    keyed = _keyed().copy()
    keyed.update(msgspec.json.encode([nonce, _micros(occurred), *fields], enc_hook=as_plain_json))
    return str(keyed.hexdigest())


def entry_mac(occurred: datetime, fields: Sequence[Any]) -> str:
    """The MAC of a new entry: `fields` are the values of FIELDS, in order."""
    nonce = f"{_micros(occurred):014x}{os.urandom(9).hex()}"  # 32 hex digits, as before
    return f"{_VERSION}:{nonce}:{_digest(nonce, occurred, fields)}"


def mac_matches(row: dict[str, Any]) -> bool:
    version, _, rest = str(row.get("mac") or "").partition(":")
    nonce, _, digest = rest.partition(":")
    if version != _VERSION or not nonce or not digest:
        return False
    fields = [row.get(name) for name in FIELDS]
    return hmac.compare_digest(digest, _digest(nonce, row["occurred_at"], fields))
