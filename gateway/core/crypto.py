"""Encryption at rest and keyed hashes.

Ciphertexts are tagged `v1:aes256gcm:<key id>:<base64 nonce+ciphertext>` so that a key rotation
can find every value still under an old key and decrypt it with the ring's matching key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from settings.keys import KeyMaterial

_FORMAT = "v1"
_ALGORITHM = "aes256gcm"


class Cipher:
    def __init__(self, keys: KeyMaterial) -> None:
        self._keys = keys
        self._aeads = {key_id: AESGCM(key) for key_id, key in keys.encryption_keys.items()}

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt; `context` (e.g. "change_request.iban") is bound as associated data."""
        nonce = secrets.token_bytes(12)
        key_id = self._keys.active_key_id
        sealed = self._aeads[key_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_FORMAT}:{_ALGORITHM}:{key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        version, algorithm, key_id, payload = token.split(":", 3)
        if (version, algorithm) != (_FORMAT, _ALGORITHM):
            raise ValueError(f"unsupported ciphertext format {version}:{algorithm}")
        raw = base64.b64decode(payload)
        return self._aeads[key_id].decrypt(raw[:12], raw[12:], context.encode()).decode()

    def keyed_hash(self, value: str, *, purpose: str) -> str:
        """HMAC-SHA256 under the hash key, separated by purpose so digests never cross uses."""
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._keys.hash_key, message, hashlib.sha256).hexdigest()
