import base64
import hashlib

import pytest
from cryptography.exceptions import InvalidTag

from gateway.core.crypto import Cipher
from settings.keys import parse_key_ring


def _ring(*ids: str) -> str:
    # The same id always means the same key, as in a real ring.
    return ",".join(
        f"{key_id}:{base64.b64encode(hashlib.sha256(key_id.encode()).digest()).decode()}"
        for key_id in ids
    )


HASH_KEY = base64.b64encode(b"h" * 32).decode()


def test_ciphertext_is_tagged_and_round_trips() -> None:
    cipher = Cipher(parse_key_ring(_ring("k1"), HASH_KEY))
    token = cipher.encrypt("DE89370400440532013000", context="change_request.iban")
    assert token.startswith("v1:aes256gcm:k1:")
    assert "DE89370400440532013000" not in token
    assert cipher.decrypt(token, context="change_request.iban") == "DE89370400440532013000"


def test_old_ciphertexts_stay_readable_after_a_new_key_leads_the_ring() -> None:
    old = Cipher(parse_key_ring(_ring("k1"), HASH_KEY)).encrypt("secret", context="c")
    rotated = Cipher(parse_key_ring(_ring("k2", "k1"), HASH_KEY))
    assert rotated.decrypt(old, context="c") == "secret"
    assert rotated.encrypt("secret", context="c").startswith("v1:aes256gcm:k2:")


def test_ciphertext_is_bound_to_its_context() -> None:
    cipher = Cipher(parse_key_ring(_ring("k1"), HASH_KEY))
    token = cipher.encrypt("secret", context="change_request.iban")
    with pytest.raises(InvalidTag):
        cipher.decrypt(token, context="something.else")


def test_keyed_hash_depends_on_key_and_purpose() -> None:
    one = Cipher(parse_key_ring(_ring("k1"), HASH_KEY))
    other = Cipher(parse_key_ring(_ring("k1"), base64.b64encode(b"x" * 32).decode()))
    assert one.keyed_hash("DE89", purpose="iban") == one.keyed_hash("DE89", purpose="iban")
    assert one.keyed_hash("DE89", purpose="iban") != other.keyed_hash("DE89", purpose="iban")
    assert one.keyed_hash("DE89", purpose="iban") != one.keyed_hash("DE89", purpose="email")


def test_short_keys_are_refused_with_the_variable_named() -> None:
    with pytest.raises(ValueError, match="BG_ENCRYPTION_KEYS"):
        parse_key_ring("k1:" + base64.b64encode(b"short").decode(), HASH_KEY)
