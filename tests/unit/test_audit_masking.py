"""The audit trail's masking shortcuts write every entry exactly as masking it string by string
would (`audit.masking`): for each spelling of a card number or an IBAN, and for any text."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.masking import SHORTEST_FOUND, masked_json, masked_text
from gateway.core.catalogues import as_plain_json
from gateway.core.sensitive import redact_text, redact_value
from tests.spellings import CARD, CARD_SPELLINGS, IBAN, IBAN_SPELLINGS, digits_of

SHORTEST_IBAN = "NO9386011117947"  # 15 characters: Norway's IBANs are the shortest
FEWEST_DIGITS_IBAN = "QA69DOHBABCDEFGHIJKLMNOPQRSTU"  # two: its check digits (a letters BBAN)
# Each spelling, and the digits of it that must not be left.
SPELLINGS = (
    {f"card {name}": (text, CARD) for name, text in CARD_SPELLINGS.items()}
    | {f"iban {name}": (text, digits_of(IBAN[4:])) for name, text in IBAN_SPELLINGS.items()}
    | {
        "card as written": (CARD, CARD),
        "iban shortest": (SHORTEST_IBAN, SHORTEST_IBAN[4:]),
        "iban shortest, a digit short": (SHORTEST_IBAN[:-1], SHORTEST_IBAN[4:-1]),
        "iban with two digits": (FEWEST_DIGITS_IBAN, "DOHBABCDEFGHIJKLMNOPQRSTU"),
    }
)


def _shows(secret: str, text: str) -> bool:
    """Whether a reader could copy `secret` out of `text` (digits in any script)."""
    return secret in digits_of(text) if secret.isdigit() else secret in text


def _masked_string_by_string(payload: dict[str, Any]) -> bytes:
    return msgspec.json.encode(redact_value(payload), enc_hook=as_plain_json)


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_every_spelling_in_a_payload_is_masked(name: str) -> None:
    text, secret = SPELLINGS[name]
    payload = {
        "actor_role": "specialist",
        "reason": "customer read it out by phone",
        "before": {"status": "in_progress"},
        "after": {"notes": ["new mandate", text]},
        "provider_request_ids": {},
    }
    written = masked_json(payload)
    assert not _shows(secret, written.decode())
    assert written == _masked_string_by_string(payload)


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_every_spelling_as_a_target_is_masked(name: str) -> None:
    text, secret = SPELLINGS[name]
    masked = masked_text(text)
    assert not _shows(secret, masked)
    assert masked == redact_text(text)


def test_a_payload_without_two_digits_is_written_as_encoded() -> None:
    payload = {"reason": "customer asked by phone", "after": {"status": "processed", "n": 1}}
    assert masked_json(payload) == msgspec.json.encode(payload)


# Digits that neither the two-digit look at raw text nor at its JSON would see: escapes of ¼ ½
# ¾ (two digits each, as detection reads them), and the fraction itself beside letters.
HIDDEN_DIGITS = {
    "card_as_escaped_fractions": "\\xbc\\xbc\\xbc\\xbc\\xbc\\xbc\\xbd\\xbe",  # 1414141414141234
    "iban_with_a_fraction": "QA\u00bcTCXLKEIIILMISOAEEIHGCZSRT",  # QA14TCXL...
}


@pytest.mark.parametrize("name", sorted(HIDDEN_DIGITS))
def test_digits_an_escape_or_a_fraction_stands_for_are_masked(name: str) -> None:
    text = HIDDEN_DIGITS[name]
    assert redact_text(text) != text
    assert masked_text(text) == redact_text(text)
    written = masked_json({"reason": text})
    assert written == msgspec.json.encode({"reason": redact_text(text)})
    assert text.encode() not in written


_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
_ASCII = st.text(st.characters(codec="ascii"), max_size=SHORTEST_FOUND + 30)
_NUMBERISH = st.lists(  # pieces of numbers as people and error messages spell them
    st.sampled_from(
        [*"0149 -x", "QA", "\u200b", "\u0664", "\uff14", "\u00bc", "\\u0034", "\\xbc", "\\xbe"]
    ),
    max_size=20,
).map("".join)
_STRINGS = st.one_of(
    _TEXT, _ASCII, _NUMBERISH, st.sampled_from([text for text, _ in SPELLINGS.values()])
)
_VALUES = st.recursive(
    st.one_of(_STRINGS, st.integers(), st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_STRINGS, children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(_STRINGS, _VALUES, max_size=5))
def test_any_payload_is_written_as_masking_each_string_writes_it(payload: dict[str, Any]) -> None:
    assert masked_json(payload) == _masked_string_by_string(payload)


@given(st.one_of(_ASCII, _NUMBERISH, _TEXT))
def test_any_target_is_masked_as_redact_text_masks_it(text: str) -> None:
    assert masked_text(text) == redact_text(text)
