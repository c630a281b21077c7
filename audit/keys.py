"""A data key per subject (a customer, or "system"), wrapped by the key-encryption key: the
active key of BG_ENCRYPTION_KEYS. Payloads are AES-256-GCM under their subject's data key and
tagged `v1:aes256gcm:<data key id>:<base64 nonce+ciphertext>`.

Forgetting a subject destroys its wrapped key: its payloads can no longer be read by anyone, and
nothing else changes (the chain covers ciphertexts, which stay). Rotating the key-encryption key
re-wraps each data key; the data keys, and so the payloads, never change.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audit import queries
from gateway.core.db.connection import fetch
from settings.keys import KeyMaterial

SYSTEM_SUBJECT = "system"
_FORMAT = "v1:aes256gcm"


class SubjectForgottenError(Exception):
    """The subject's data key was destroyed: its payloads read as erased."""


@dataclass(frozen=True)
class DataKey:
    key_id: str
    aead: AESGCM

    def seal(self, nonce: bytes, plaintext: bytes, associated: bytes) -> str:
        """The tagged ciphertext under `nonce` (12 random bytes, never used twice)."""
        sealed = self.aead.encrypt(nonce, plaintext, associated)
        encoded = binascii.b2a_base64(nonce + sealed, newline=False).decode()
        return f"{_FORMAT}:{self.key_id}:{encoded}"


def _wrap(kek: bytes, data_key: bytes, subject: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(kek).encrypt(nonce, data_key, f"audit.subject_key:{subject}".encode())
    return base64.b64encode(nonce + sealed).decode()


def _unwrap(kek: bytes, wrapped: str, subject: str) -> bytes:
    return _unwrap_with(AESGCM(kek), wrapped, subject)


def _unwrap_with(kek: AESGCM, wrapped: str, subject: str) -> bytes:
    raw = base64.b64decode(wrapped)
    return kek.decrypt(raw[:12], raw[12:], f"audit.subject_key:{subject}".encode())


@dataclass(frozen=True)
class UnreadableKey:
    subject: str
    missing_kek_id: str | None  # the key-encryption key the ring lacks; None: the key is damaged


async def unreadable_keys(keys: KeyMaterial) -> list[UnreadableKey]:
    """Each live data key that does not unwrap under `keys` (a rotation may have written garbage:
    the database cannot tell). Names subjects and key ids only, never key material."""
    rows = await fetch(queries.LIVE_KEYS)
    keks = {key_id: AESGCM(kek) for key_id, kek in keys.encryption_keys.items()}
    unreadable = []
    for row in rows:
        kek = keks.get(row["kek_id"])
        if kek is None:
            unreadable.append(UnreadableKey(row["subject"], row["kek_id"]))
            continue
        try:
            data_key = _unwrap_with(kek, row["wrapped_key"], row["subject"])
        except (InvalidTag, ValueError):  # ValueError: not base64, or too short
            data_key = b""
        if len(data_key) != 32:
            unreadable.append(UnreadableKey(row["subject"], None))
    return unreadable


class SubjectKeys:
    """Data keys by subject, unwrapped once per process and kept in memory."""

    def __init__(self, keys: KeyMaterial) -> None:
        self._keys = keys
        self._cache: dict[str, DataKey] = {}

    async def for_writing(self, subject: str) -> DataKey:
        known = self._cache.get(subject)
        if known is not None:
            return known
        data_key = secrets.token_bytes(32)
        key_id = f"dk-{secrets.token_hex(6)}"
        kek_id = self._keys.active_key_id
        wrapped = _wrap(self._keys.encryption_keys[kek_id], data_key, subject)
        if not await fetch(queries.INSERT_KEY, subject, key_id, wrapped, kek_id):
            return await self.for_reading(subject)  # it has a key already, or had one
        # Ours: no need to read it back and unwrap it. Should the caller's transaction roll
        # back, the live-key check of the entry's INSERT refuses this key and drops it.
        created = DataKey(key_id, AESGCM(data_key))
        self._cache[subject] = created
        return created

    async def for_reading(self, subject: str) -> DataKey:
        known = self._cache.get(subject)
        if known is not None:
            return known
        rows = await fetch(queries.KEY_OF, subject)
        if not rows or rows[0]["wrapped_key"] is None:
            raise SubjectForgottenError(subject)
        row = rows[0]
        kek = self._keys.encryption_keys[row["kek_id"]]
        found = DataKey(row["key_id"], AESGCM(_unwrap(kek, row["wrapped_key"], subject)))
        self._cache[subject] = found
        return found

    def cached(self, subject: str) -> DataKey | None:
        """The key this process holds for `subject`, without a look at the database."""
        return self._cache.get(subject)

    def forget_cached(self, subject: str) -> None:
        self._cache.pop(subject, None)

    async def decrypt(self, subject: str, token: str, associated: bytes) -> bytes:
        data_key = await self.for_reading(subject)
        if token.split(":")[2] != data_key.key_id:  # cached key replaced since: read it again
            self.forget_cached(subject)
            data_key = await self.for_reading(subject)
        raw = base64.b64decode(token.rsplit(":", 1)[1])
        return data_key.aead.decrypt(raw[:12], raw[12:], associated)

    async def rewrap_all(
        self,
        *,
        before_first: Callable[[str, int], Awaitable[None]] | None = None,
        rewrapped: Callable[[], None] | None = None,
    ) -> int:
        """Re-wrap every live data key under the active key-encryption key. Each row is one
        statement: stopped half-way and run again, it carries on where it stopped.

        `before_first(active key id, keys to re-wrap)` runs, and must commit, before the first
        of them is re-wrapped: the caller records there that a rotation is under way.
        `rewrapped()` hears of each key done."""
        active = self._keys.active_key_id
        done = 0
        rows = await fetch(queries.KEYS_TO_REWRAP, active)
        if before_first is not None:
            await before_first(active, len(rows))
        for row in rows:
            data_key = _unwrap(
                self._keys.encryption_keys[row["kek_id"]], row["wrapped_key"], row["subject"]
            )
            await fetch(
                queries.REWRAP,
                row["subject"],
                _wrap(self._keys.encryption_keys[active], data_key, row["subject"]),
                active,
                row["kek_id"],
            )
            done += 1
            if rewrapped is not None:
                rewrapped()
        return done

    async def forget(self, subject: str) -> bool:
        rows = await fetch(queries.FORGET, subject)
        self.forget_cached(subject)
        return bool(rows)
