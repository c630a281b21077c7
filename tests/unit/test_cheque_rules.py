"""The cheque rules that need no database: numbering and initials, the business day, what a
reference or note may hold, which invoice a cheque may pay, and the bounce note's wording."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adapters.ports import Invoice, Money
from gateway.cheques.checks import refuse_card_numbers, refuse_unpayable
from gateway.cheques.events import cheque_note
from gateway.cheques.numbers import business_date_in, cheque_number, initials, payment_number
from gateway.core.errors import BillingError, ErrorCode
from gateway.notifications.events import EventType
from settings import Settings


@pytest.mark.parametrize(
    ("username", "first", "last", "expected"),
    [
        ("olga", "Olga", "Petit", "OP"),
        ("omar", "omar", "haddad", "OH"),
        ("eb", "Émile", "Ödegaard", "EO"),  # accents folded
        ("zed", "", "", "ZE"),  # no names: the username's first two letters
        ("a.b", "Anna", "", "AB"),  # one name only: still the username's letters
        ("9x-y", None, None, "XY"),  # letters only
    ],
)
def test_initials(username: str, first: str | None, last: str | None, expected: str) -> None:
    assert initials(username, first, last) == expected


def test_the_number_carries_initials_day_and_sequence() -> None:
    number = cheque_number("OP", date(2026, 12, 5), 7)
    assert number == "OP-20261205-0007"
    assert payment_number(number) == "CHQ-OP-20261205-0007"


def test_the_business_day_is_today_in_the_operations_time_zone() -> None:
    late = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    assert business_date_in("UTC", late) == date(2026, 12, 5)
    assert business_date_in("Europe/Paris", late) == date(2026, 12, 6)
    assert business_date_in("America/New_York", late) == date(2026, 12, 5)


def test_the_time_zone_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BG_OPERATIONS_TIME_ZONE", "Europe/Paris")
    assert Settings().operations_time_zone == "Europe/Paris"
    monkeypatch.setenv("BG_OPERATIONS_TIME_ZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="IANA"):
        Settings()


@pytest.mark.parametrize(
    "reference",
    ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "41111111 11111111"],
)
def test_a_card_number_as_reference_is_refused_without_echoing_it(reference: str) -> None:
    with pytest.raises(BillingError) as refused:
        refuse_card_numbers(reference, None)
    assert refused.value.code is ErrorCode.CARD_NUMBER_NOT_ACCEPTED
    assert "4111" not in refused.value.detail and "1111" not in str(refused.value.extra)


def test_a_card_number_or_an_iban_in_the_note_is_refused() -> None:
    with pytest.raises(BillingError) as card:
        refuse_card_numbers("0001234", "paid with card 5555 5555 5555 4444 first")
    assert card.value.code is ErrorCode.CARD_NUMBER_NOT_ACCEPTED
    with pytest.raises(BillingError) as iban:
        refuse_card_numbers("0001234", "from DE89 3704 0044 0532 0130 00")
    assert iban.value.code is ErrorCode.IBAN_OUTSIDE_IBAN_FIELD


def test_ordinary_cheque_numbers_pass() -> None:
    for reference in ("0001234", "CHQ 778812", "12-3456-7890", "4111111111111112"):
        refuse_card_numbers(reference, "Renewal, mailed with the order form.")


def _invoice(status: str = "open", balance: int = 12_000, currency: str = "EUR") -> Invoice:
    return Invoice(
        id="inv_1",
        number="INV-1",
        account_id="A-1",
        status=status,  # type: ignore[arg-type]
        total=Money(12_000, currency),
        balance=Money(balance, currency),
        issued_on=None,
        due_on=None,
    )


def test_an_invoice_must_be_open_in_the_currency_and_owe_the_amount() -> None:
    refuse_unpayable(_invoice(), 12_000, "EUR")  # exactly the balance
    refuse_unpayable(_invoice(), 5_000, "EUR")  # part of it
    cases = [
        (_invoice(status="paid", balance=0), 100, "EUR", ErrorCode.INVOICE_NOT_OPEN),
        (_invoice(status="void"), 100, "EUR", ErrorCode.INVOICE_NOT_OPEN),
        (_invoice(), 100, "USD", ErrorCode.CURRENCY_MISMATCH),
        (_invoice(balance=4_900), 4_901, "EUR", ErrorCode.CHEQUE_EXCEEDS_INVOICE),
    ]
    for invoice, amount, currency, code in cases:
        with pytest.raises(BillingError) as refused:
            refuse_unpayable(invoice, amount, currency)
        assert refused.value.code is code
    with pytest.raises(BillingError) as over:
        refuse_unpayable(_invoice(balance=4_900), 5_000, "EUR")
    assert "49.00 EUR" in over.value.detail  # the sentence names the balance
    assert over.value.extra["balance"] == {"amount_minor": 4_900, "currency": "EUR"}


def _row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "number": "OP-20261205-0001",
        "reference": "0001234",
        "provider": "zuora",
        "account_id": "8a8a01",
        "amount_minor": 12_000,
        "currency": "EUR",
        "invoice_id": "inv_1",
        "invoice_number": "INV00001",
        "invoice_status": "open",
        "bounce_reason": "No funds.",
    }
    return {**row, **changes}


def test_the_bounce_note_says_open_again_only_when_the_provider_does() -> None:
    opened = cheque_note(EventType.CHEQUE_BOUNCED, _row())
    assert "open again" in opened and "120.00 EUR" in opened and "No funds." in opened
    paid = cheque_note(EventType.CHEQUE_BOUNCED, _row(invoice_status="paid"))
    assert "open again" not in paid
    assert "shows invoice INV00001 as paid" in paid and "by hand" in paid
    credit = cheque_note(EventType.CHEQUE_BOUNCED, _row(invoice_id=None, invoice_number=None))
    assert "credit" in credit and "open again" not in credit


def test_the_recorded_note_names_the_invoice_or_the_credit() -> None:
    paid = cheque_note(EventType.CHEQUE_RECORDED, _row(invoice_status="paid"))
    assert "INV00001" in paid and "shows the invoice paid" in paid
    credit = cheque_note(EventType.CHEQUE_RECORDED, _row(invoice_id=None, invoice_number=None))
    assert "as a credit for account 8a8a01's next invoice" in credit
