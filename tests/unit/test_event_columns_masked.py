"""An event's columns beside its payload never hold a card number or a full IBAN: a provider's
notice names accounts as the provider holds them, in any spelling."""

from __future__ import annotations

import json

import pytest

from gateway.core.sensitive import contains_card_number, contains_iban
from gateway.notifications.events import EventType
from gateway.notifications.outbox import event_values

CARD_SPELLINGS = [
    "4539 5787 6362 1486",
    "4539\u200b5787\u200b6362\u200b1486",  # zero-width spaces
    "4539578763621486".translate({n: n + 0xFEE0 for n in range(0x30, 0x3A)}),  # full-width
    "٤٥٣٩٥٧٨٧٦٣٦٢١٤٨٦",  # Arabic-Indic
]
IBAN_SPELLINGS = [
    "DE89 3704 0044 0532 0130 00",
    "de89370400440532013000",
    "DE89\u200b3704 0044 0532 0130 00",
]


def _values(account: str) -> list[object]:
    return event_values(
        EventType.PROVIDER_PAYMENT_FAILED,
        subject_type="customer",
        subject_id=f"zuora:{account}",
        client=None,
        data={"note": "A payment failed."},
        customer={"zuora_account_id": account, "backoffice_id": "shop-101"},
    )


@pytest.mark.parametrize("account", CARD_SPELLINGS + IBAN_SPELLINGS)
def test_a_customer_reference_holding_a_card_or_an_iban_is_stored_masked(account: str) -> None:
    _id, _type, _subject_type, subject_id, _client, customer, payload, _at, _notes = _values(
        account
    )
    stored = {"subject_id": subject_id, **json.loads(str(customer))}
    for text in (*stored.values(), str(payload)):
        assert not contains_card_number(str(text)), text
        assert not contains_iban(str(text)), text
    assert stored["backoffice_id"] == "shop-101"  # a harmless reference is kept as it is
    assert str(subject_id).startswith("zuora:")


def test_an_ordinary_customer_reference_is_stored_as_given() -> None:
    values = _values("A00000101")
    assert values[3] == "zuora:A00000101"
    assert json.loads(str(values[5])) == {
        "zuora_account_id": "A00000101",
        "backoffice_id": "shop-101",
    }
