import re

from hypothesis import given
from hypothesis import strategies as st
from schwifty import IBAN

from gateway.sensitive import (
    contains_card_number,
    contains_iban,
    iban_checksum_ok,
    luhn_ok,
    mask_iban,
    redact_text,
    redact_value,
)
from tests.strategies import card_numbers, ibans


def test_masked_iban_keeps_country_and_last_four_only() -> None:
    assert mask_iban("FR7630006000011234567890189") == "FR****0189"


def test_redaction_masks_ibans_in_any_spacing_and_leaves_other_words() -> None:
    text = "new iban FR76 3000 6000 0112 3456 7890 189 TEST please"
    assert redact_text(text) == "new iban FR****0189 TEST please"


def test_redaction_masks_card_numbers_with_separators() -> None:
    assert redact_text("card 4242-4242-4242-4242 declined") == "card [card ****4242] declined"


def test_digits_inside_a_valid_iban_are_not_mistaken_for_a_card() -> None:
    assert not contains_card_number("GB82 WEST 1234 5698 7654 32")


def test_text_without_sensitive_data_is_unchanged() -> None:
    for text in ("ticket 12345", "order 2024-11-05", "A00000101", "1234 5678 9012 3456 7890 12"):
        assert redact_text(text) == text


def test_redact_value_walks_nested_structures() -> None:
    value = {"a": ["DE89370400440532013000", {"b": ("4111111111111111",)}], "n": 3}
    assert redact_value(value) == {"a": ["DE****3000", {"b": ("[card ****1111]",)}], "n": 3}


@given(ibans(), st.text(max_size=20), st.text(max_size=20))
def test_no_generated_iban_survives_redaction(iban: str, before: str, after: str) -> None:
    redacted = redact_text(f"{before} {iban} {after}")
    assert IBAN(iban).compact not in redacted.replace(" ", "")


@given(card_numbers(), st.sampled_from(["", " ", "-", ".", "  ", " / "]))
def test_no_generated_card_number_survives_redaction(card: str, separator: str) -> None:
    grouped = separator.join(card[i : i + 4] for i in range(0, len(card), 4))
    text = f"pay with {grouped} now"
    assert contains_card_number(text)
    assert card not in re.sub(r"\D", "", redact_text(text))


def test_checksums() -> None:
    assert iban_checksum_ok("DE89370400440532013000")
    assert not iban_checksum_ok("DE89370400440532013001")
    assert luhn_ok("4242424242424242")
    assert not luhn_ok("4242424242424241")


def test_ibans_are_found_in_any_case_and_spacing() -> None:
    assert contains_iban("please use FR76 3000 6000 0112 3456 7890 189 from now")
    assert contains_iban("GB82WEST12345698765432")
    assert contains_iban("fr7630006000011234567890189")
    assert contains_iban("DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000")
    assert not contains_iban("FR7630006000011234567890188")  # checksum fails
    assert redact_text("DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000") == "DE****3000"
    assert contains_card_number("4242\u00a04242\u00a04242\u00a04242")


def test_ibans_grouped_with_dots_slashes_or_double_spaces_are_found() -> None:
    for text in (
        "FR76.3000.6000.0112.3456.7890.189",
        "FR76  3000  6000  0112  3456  7890  189",
        "FR76/3000/6000/0112/3456/7890/189",
        "FR76 - 3000 - 6000 - 0112 - 3456 - 7890 - 189",
    ):
        assert contains_iban(text), text
        assert redact_text(text) == "FR****0189", text


@given(ibans(), st.sampled_from([".", "  ", "/", " - "]))
def test_no_generated_iban_survives_in_any_grouping(iban: str, separator: str) -> None:
    compact = IBAN(iban).compact
    grouped = separator.join(compact[i : i + 4] for i in range(0, len(compact), 4))
    assert compact not in re.sub(r"[\s./-]", "", redact_text(f"iban: {grouped}."))


def test_an_iban_right_after_iban_like_noise_is_still_found() -> None:
    assert redact_text("AA00 DE41 3704 0044 0000 0000 01") == "AA00 DE****0001"
    assert redact_text("ref XY12 FR76 3000 6000 0112 3456 7890 189") == "ref XY12 FR****0189"
