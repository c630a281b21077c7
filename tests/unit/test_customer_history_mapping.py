"""What /v1/customers/{provider}/{ref}/invoices and /payments and the document routes answer,
from in-memory provider values: exact money per exponent, refunds under their payment, masked
methods, document links only where there is a document, and the problems of a provider that
lacks a capability."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime

import msgspec
import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.testing import TestClient

from adapters.ports import Account, AccountLookup, Invoice, Money, Payment, RefundResult
from gateway.billing.history_controller import HistoryController
from gateway.billing.history_mapping import attachment, invoice_out, payment_out
from gateway.core.errors import BillingError
from gateway.edge.problems import exception_to_problem
from gateway.providers import Providers

PAID = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)
ACCOUNT = Account("acc-1", "A-DINAR", "Dinar Customer WLL", "KWD", 5, None, "Active")


def _payment(**changes: object) -> Payment:
    values: dict[str, object] = {
        "id": "pay-1",
        "account_id": "acc-1",
        "amount": Money(12345, "KWD"),
        "refunded": Money(0, "KWD"),
        "status": "succeeded",
        "created_at": PAID,
        "invoice_ids": ("inv-1",),
        "method_masked": "card ****4242",
        "has_receipt": True,
    }
    return Payment(**{**values, **changes})  # type: ignore[arg-type]


def _invoice(**changes: object) -> Invoice:
    values: dict[str, object] = {
        "id": "inv-1",
        "number": "INV00000042",
        "account_id": "acc-1",
        "status": "paid",
        "total": Money(15000, "JPY"),
        "balance": Money(0, "JPY"),
        "issued_on": date(2026, 11, 5),
        "due_on": date(2026, 11, 5),
        "subscription_id": "sub-1",
        "payment_ids": ("pay-1",),
    }
    return Invoice(**{**values, **changes})  # type: ignore[arg-type]


def test_money_is_exact_in_minor_units_with_a_display_by_exponent() -> None:
    invoice = invoice_out("zuora", _invoice(), pdfs=True)
    payment = payment_out("zuora", _payment(), [], receipts=True)
    assert msgspec.to_builtins(invoice.total) == {
        "amount_minor": 15000,
        "currency": "JPY",
        "display": "15000 JPY",
    }
    assert payment.amount.amount_minor == 12345 and payment.amount.display == "12.345 KWD"
    eur = payment_out(
        "stripe", _payment(amount=Money(4900, "EUR"), refunded=Money(0, "EUR")), [], receipts=True
    )
    assert eur.refundable.display == "49.00 EUR"


def test_a_payment_shows_its_refunds_and_what_is_left_to_refund() -> None:
    refunds = [
        RefundResult("re-2", Money(2345, "KWD"), "succeeded", "pay-1", PAID),
        RefundResult("re-1", Money(1000, "KWD"), "pending", "pay-1", None),
    ]
    shown = payment_out("stripe", _payment(refunded=Money(3345, "KWD")), refunds, receipts=True)
    assert shown.refunded.amount_minor == 3345
    assert shown.refundable.amount_minor == 9000 and shown.refundable.display == "9.000 KWD"
    assert [(r.id, r.amount.amount_minor, r.status) for r in shown.refunds] == [
        ("re-2", 2345, "succeeded"),
        ("re-1", 1000, "pending"),
    ]
    assert shown.receipt == "/v1/payments/stripe/pay-1/receipt"


def test_a_failed_payment_has_nothing_refundable() -> None:
    assert (
        payment_out("zuora", _payment(status="failed"), [], receipts=True).refundable.amount_minor
        == 0
    )


def test_document_links_only_where_there_is_a_document() -> None:
    assert invoice_out("zuora", _invoice(), pdfs=True).pdf == "/v1/invoices/zuora/inv-1/pdf"
    assert invoice_out("stripe", _invoice(has_pdf=False), pdfs=True).pdf is None
    assert invoice_out("other", _invoice(), pdfs=False).pdf is None
    assert payment_out("zuora", _payment(), [], receipts=False).receipt is None
    assert payment_out("stripe", _payment(has_receipt=False), [], receipts=True).receipt is None


def test_a_card_number_or_iban_an_adapter_let_through_is_masked() -> None:
    card = payment_out("stripe", _payment(method_masked="card 4242424242424242"), [], receipts=True)
    iban = payment_out(
        "zuora", _payment(method_masked="FR1420041010050500013M02606"), [], receipts=True
    )
    body = msgspec.json.encode([card, iban]).decode()
    assert "4242424242424242" not in body and "FR1420041010050500013M02606" not in body
    assert card.method_masked is not None and card.method_masked.endswith("4242]")
    assert iban.method_masked == "FR****2606"
    assert payment_out("stripe", _payment(), [], receipts=True).method_masked == "card ****4242"


def test_a_document_is_named_after_the_invoice_number_in_safe_characters() -> None:
    assert attachment("invoice-INV00000042", "pdf") == (
        'attachment; filename="invoice-INV00000042.pdf"'
    )
    assert attachment('invoice-2026/11 "x"\r\nSet-Cookie: a', "pdf") == (
        'attachment; filename="invoice-2026-11-x-Set-Cookie-a.pdf"'
    )


# -- the routes, with adapters in memory ---------------------------------------------------


class FindsAccounts:
    """A provider whose adapter finds accounts and nothing more."""

    async def find_account(self, lookup: AccountLookup) -> Account | None:
        matches = lookup.number == ACCOUNT.number or lookup.backoffice_id == "BO-DINAR"
        return ACCOUNT if matches else None

    async def close(self) -> None:
        return None


class KeepsHistory(FindsAccounts):
    """Invoices, payments, refunds, PDFs and receipts, as Stripe's adapter has them."""

    async def list_invoices(self, account_id: str, *, limit: int = 50) -> Sequence[Invoice]:
        return [_invoice()][:limit]

    async def get_invoice(self, invoice_id: str) -> Invoice | None:
        return _invoice() if invoice_id == "inv-1" else None

    async def list_payments(self, account_id: str, *, limit: int = 50) -> Sequence[Payment]:
        return [_payment(refunded=Money(345, "KWD")), _payment(id="pay-2", status="failed")]

    async def get_payment(self, payment_id: str) -> Payment | None:
        return _payment(id=payment_id) if payment_id in {"pay-1", "pay-2"} else None

    async def list_refunds(self, account_id: str, *, limit: int = 50) -> Sequence[RefundResult]:
        return [RefundResult("re-1", Money(345, "KWD"), "succeeded", "pay-1", PAID)]

    async def list_subscriptions(self, account_id: str) -> Sequence[object]:
        return []

    async def get_subscription(self, subscription_id: str) -> object | None:
        return None

    async def invoice_pdf(self, invoice_id: str) -> bytes:
        return b"%PDF-1.4 invoice"

    async def receipt(self, payment_id: str) -> tuple[bytes, str]:
        return b"<p>Paid with 4242 4242 4242 4242</p>", "text/html; charset=utf-8"


@pytest.fixture
def client() -> Iterator[TestClient[Litestar]]:
    providers = Providers({"full": KeepsHistory(), "bare": FindsAccounts()})
    app = Litestar(
        route_handlers=[HistoryController],
        dependencies={"providers": Provide(lambda: providers, sync_to_thread=False)},
        exception_handlers={BillingError: exception_to_problem},
    )
    with TestClient(app) as test_client:
        yield test_client


def test_the_payments_list_nests_refunds_under_their_payment(
    client: TestClient[Litestar],
) -> None:
    answer = client.get("/customers/full/BO-DINAR/payments", params={"limit": 2})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["customer"]["account_number"] == "A-DINAR"
    first, failed = body["payments"]
    assert [refund["id"] for refund in first["refunds"]] == ["re-1"]
    assert first["refundable"] == {
        "amount_minor": 12000,
        "currency": "KWD",
        "display": "12.000 KWD",
    }
    assert failed["refunds"] == [] and failed["refundable"]["amount_minor"] == 0


def test_a_provider_without_billing_history_says_what_it_lacks(
    client: TestClient[Litestar],
) -> None:
    answer = client.get("/customers/bare/A-DINAR/invoices")
    assert answer.status_code == 422
    assert answer.json()["code"] == "provider_lacks_capability"
    assert "list a customer's invoices and payments at Bare" in answer.json()["detail"]
    no_pdf = client.get("/invoices/bare/inv-1/pdf")
    assert (no_pdf.status_code, no_pdf.json()["code"]) == (422, "provider_lacks_capability")
    receipt = client.get("/payments/bare/pay-1/receipt")
    assert (receipt.status_code, receipt.json()["code"]) == (404, "no_receipt")
    assert receipt.json()["detail"] == (
        "Bare keeps no receipt for a payment; send the invoice PDF instead."
    )


def test_documents_download_as_named_files_with_card_numbers_masked(
    client: TestClient[Litestar],
) -> None:
    pdf = client.get("/invoices/full/inv-1/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == ('attachment; filename="invoice-INV00000042.pdf"')
    receipt = client.get("/payments/full/pay-1/receipt")
    assert receipt.status_code == 200 and receipt.headers["content-type"].startswith("text/html")
    assert "4242 4242 4242 4242" not in receipt.text and "4242" in receipt.text
    missing = client.get("/invoices/full/inv-9/pdf")
    assert (missing.status_code, missing.json()["code"]) == (404, "provider_not_found")
    unknown = client.get("/customers/full/A-NOBODY/invoices")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "customer_not_found")
