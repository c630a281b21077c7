"""The documents an agent sends a customer, as the provider renders them: an invoice's PDF
and a payment's receipt. One place for what the API (gateway/billing/history_controller.py)
and the back office's customer page (admin/customer_page.py) both serve: the checks, the
masking of a text receipt and the file name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.ports import Capability, Invoice, Payment, capabilities_of
from gateway.billing.history_mapping import attachment
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import redact_text

PDF = "application/pdf"
EXTENSION_OF = {PDF: "pdf", "text/html": "html", "text/plain": "txt"}


@dataclass(frozen=True)
class Document:
    body: bytes
    media_type: str  # the type alone: Litestar adds the charset of text types (utf-8)
    disposition: str  # `attachment; filename="invoice-INV-1.pdf"`


def not_found(provider: str, what: str, reference: str, listed_by: str) -> BillingError:
    return BillingError(
        ErrorCode.PROVIDER_NOT_FOUND,
        f"{provider.capitalize()} has no {what} {reference}; "
        f"GET /v1/customers/{provider}/{{customer}}/{listed_by} lists a customer's {listed_by}.",
        extra={"provider": provider},
    )


def no_receipt(provider: str) -> BillingError:
    return BillingError(
        ErrorCode.NO_RECEIPT,
        f"{provider.capitalize()} keeps no receipt for a payment; send the invoice PDF instead.",
        extra={"provider": provider},
    )


def _lacks(provider: str, what: str) -> BillingError:
    return BillingError(
        ErrorCode.PROVIDER_LACKS_CAPABILITY,
        f"The {provider} adapter cannot give {what}.",
        extra={"provider": provider},
    )


def _outside(account_id: str | None, owner: str, provider: str, what: str, ref: str) -> None:
    """A document reached through one customer's page must be that customer's."""
    if account_id is not None and owner != account_id:
        raise BillingError(
            ErrorCode.PROVIDER_NOT_FOUND,
            f"No such {what} for this customer: the {what} {ref} is another customer's.",
            extra={"provider": provider},
        )


async def invoice_pdf(
    adapter: Any, provider: str, invoice_id: str, *, account_id: str | None = None
) -> Document:
    """The invoice's PDF; with `account_id`, only when the invoice is that customer's."""
    capabilities = capabilities_of(adapter)
    if Capability.INVOICE_PDFS not in capabilities:
        raise _lacks(provider, "invoice PDFs")
    name = invoice_id
    if Capability.BILLING_HISTORY in capabilities:
        invoice: Invoice | None = await adapter.get_invoice(invoice_id)
        if invoice is None:
            raise not_found(provider, "invoice", invoice_id, "invoices")
        _outside(account_id, invoice.account_id, provider, "invoice", invoice_id)
        if not invoice.has_pdf:
            raise BillingError(
                ErrorCode.PROVIDER_NOT_FOUND,
                f"{provider.capitalize()} has no PDF of the {invoice.status} invoice "
                f"{invoice_id} yet: it makes one once the invoice is finalized.",
                extra={"provider": provider},
            )
        name = invoice.number or invoice.id
    elif account_id is not None:
        raise _lacks(provider, "invoices by customer")
    pdf: bytes = await adapter.invoice_pdf(invoice_id)
    if not pdf.startswith(b"%PDF-"):  # an error page passed off as the document
        raise BillingError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            f"{provider.capitalize()} did not hand out the invoice's PDF just now; "
            "try again in a minute.",
            extra={"provider": provider},
            headers={"Retry-After": "60"},
        )
    return Document(pdf, PDF, attachment(f"invoice-{name}", "pdf"))


async def receipt(
    adapter: Any, provider: str, payment_id: str, *, account_id: str | None = None
) -> Document:
    """The payment's receipt, any card number or IBAN in a text one masked; with
    `account_id`, only when the payment is that customer's."""
    capabilities = capabilities_of(adapter)
    if Capability.RECEIPTS not in capabilities:
        raise no_receipt(provider)
    if Capability.BILLING_HISTORY in capabilities:
        payment: Payment | None = await adapter.get_payment(payment_id)
        if payment is None:
            raise not_found(provider, "payment", payment_id, "payments")
        _outside(account_id, payment.account_id, provider, "payment", payment_id)
        if not payment.has_receipt:
            raise BillingError(
                ErrorCode.NO_RECEIPT,
                f"{provider.capitalize()} has no receipt for the payment {payment_id} "
                f"(it is {payment.status}); send the invoice PDF instead.",
                extra={"provider": provider},
            )
    elif account_id is not None:
        raise _lacks(provider, "payments by customer")
    body, media_type = await adapter.receipt(payment_id)
    kind = base_media_type(media_type)
    return Document(
        masked_document(body, kind),
        kind,
        attachment(f"receipt-{payment_id}", EXTENSION_OF.get(kind, "bin")),
    )


def base_media_type(media_type: str) -> str:
    """`text/html; charset=utf-8` -> `text/html`."""
    return media_type.split(";", 1)[0].strip().lower()


def masked_document(body: bytes, media_type: str) -> bytes:
    """A text document with any card number or IBAN masked: providers print the last four
    only, and the gateway makes sure of it."""
    if not base_media_type(media_type).startswith("text/"):
        return body
    text = body.decode("utf-8", errors="replace")
    masked = redact_text(text)
    return body if masked == text else masked.encode()
