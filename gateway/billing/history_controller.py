"""HTTP handlers for what a correction acts on: a customer's invoices and payments (with their
refunds), and the documents an agent sends: the invoice PDF and the payment's receipt."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Response, get
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import PathParameter, QueryParameter

from adapters.ports import Capability, Invoice, Payment, capabilities_of
from gateway.api_keys.scopes import Scope
from gateway.billing.customers import configured_adapter, find_customer, require_capability
from gateway.billing.history_mapping import (
    attachment,
    customer_ref,
    invoice_out,
    payment_out,
    refunds_by_payment,
)
from gateway.billing.history_schemas import InvoiceList, PaymentList
from gateway.edge.auth import SCOPE_OPT
from gateway.edge.openapi import AUTHENTICATED, SECURITY, problems
from gateway.errors import BillingError, ErrorCode
from gateway.providers import Providers
from gateway.sensitive import redact_text

READ = {SCOPE_OPT: Scope.BILLING_READ.value}
FIND_ACCOUNTS = frozenset({Capability.ACCOUNTS})
# Refunds are read per customer, newest first: enough to cover the payments listed.
REFUNDS_READ = 100
PDF = "application/pdf"
EXTENSION_OF = {PDF: "pdf", "text/html": "html", "text/plain": "txt"}

ProviderName = Annotated[str, PathParameter(max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
Reference = Annotated[str, PathParameter(max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")]
Limit = Annotated[int, QueryParameter(ge=1, le=100, description="At most this many, newest first")]


def _attachment_header(example: str) -> list[ResponseHeader]:
    """A document is downloaded as a file named after what it is."""
    return [
        ResponseHeader(
            name="Content-Disposition",
            documentation_only=True,
            value=example,
            description="The document as a file, named after the invoice number or payment id.",
        )
    ]


@dataclass
class DocumentOperation(Operation):
    """A document as the provider renders it: a PDF (binary), or for a receipt also HTML
    (Stripe's receipt page)."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
            ok.content[PDF] = OpenAPIMediaType(schema=binary)


def _not_found(provider: str, what: str, reference: str, listed_by: str) -> BillingError:
    return BillingError(
        ErrorCode.PROVIDER_NOT_FOUND,
        f"{provider.capitalize()} has no {what} {reference}; "
        f"GET /v1/customers/{provider}/{{customer}}/{listed_by} lists a customer's {listed_by}.",
        extra={"provider": provider},
    )


def _no_receipt(provider: str) -> BillingError:
    return BillingError(
        ErrorCode.NO_RECEIPT,
        f"{provider.capitalize()} keeps no receipt for a payment; send the invoice PDF instead.",
        extra={"provider": provider},
    )


class HistoryController(Controller):
    tags = ["billing"]
    security = SECURITY

    @get(
        "/customers/{provider:str}/{reference:str}/invoices",
        opt=READ,
        responses=problems(*AUTHENTICATED, 404, 503),
        summary="A customer's invoices, newest first: status, totals and balance in minor "
        "units, what paid them, and where their PDF is",
    )
    async def invoices(
        self,
        provider: ProviderName,
        reference: Reference,
        providers: NamedDependency[Providers],
        limit: Limit = 50,
    ) -> InvoiceList:
        adapter = configured_adapter(providers, provider, FIND_ACCOUNTS)
        require_capability(adapter, provider, Capability.BILLING_HISTORY)
        account = await find_customer(adapter, provider, reference)
        invoices = await adapter.list_invoices(account.id, limit=limit)
        pdfs = Capability.INVOICE_PDFS in capabilities_of(adapter)
        return InvoiceList(
            customer=customer_ref(provider, account),
            invoices=[invoice_out(provider, invoice, pdfs=pdfs) for invoice in invoices],
        )

    @get(
        "/customers/{provider:str}/{reference:str}/payments",
        opt=READ,
        responses=problems(*AUTHENTICATED, 404, 503),
        summary="A customer's payments, newest first: amount, what has been refunded (each "
        "refund) and what is still refundable, the masked method, and where a receipt is",
    )
    async def payments(
        self,
        provider: ProviderName,
        reference: Reference,
        providers: NamedDependency[Providers],
        limit: Limit = 50,
    ) -> PaymentList:
        adapter = configured_adapter(providers, provider, FIND_ACCOUNTS)
        require_capability(adapter, provider, Capability.BILLING_HISTORY)
        account = await find_customer(adapter, provider, reference)
        payments, refunds = await asyncio.gather(
            adapter.list_payments(account.id, limit=limit),
            adapter.list_refunds(account.id, limit=REFUNDS_READ),
        )
        of_payment = refunds_by_payment(refunds)
        receipts = Capability.RECEIPTS in capabilities_of(adapter)
        return PaymentList(
            customer=customer_ref(provider, account),
            payments=[
                payment_out(provider, payment, of_payment.get(payment.id, []), receipts=receipts)
                for payment in payments
            ],
        )

    @get(
        "/invoices/{provider:str}/{reference:str}/pdf",
        opt=READ,
        media_type=PDF,
        response_headers=_attachment_header('attachment; filename="invoice-INV00000001.pdf"'),
        operation_class=DocumentOperation,
        responses=problems(*AUTHENTICATED, 404, 503),
        summary="The invoice's PDF, as the provider renders it, to send to the customer",
    )
    async def invoice_pdf(
        self, provider: ProviderName, reference: Reference, providers: NamedDependency[Providers]
    ) -> Response[bytes]:
        adapter = configured_adapter(providers, provider, frozenset())
        require_capability(adapter, provider, Capability.INVOICE_PDFS)
        name = reference
        if Capability.BILLING_HISTORY in capabilities_of(adapter):
            invoice: Invoice | None = await adapter.get_invoice(reference)
            if invoice is None:
                raise _not_found(provider, "invoice", reference, "invoices")
            if not invoice.has_pdf:
                raise BillingError(
                    ErrorCode.PROVIDER_NOT_FOUND,
                    f"{provider.capitalize()} has no PDF of the {invoice.status} invoice "
                    f"{reference} yet: it makes one once the invoice is finalized.",
                    extra={"provider": provider},
                )
            name = invoice.number or invoice.id
        pdf: bytes = await adapter.invoice_pdf(reference)
        if not pdf.startswith(b"%PDF-"):  # an error page passed off as the document
            raise BillingError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{provider.capitalize()} did not hand out the invoice's PDF just now; "
                "try again in a minute.",
                extra={"provider": provider},
                headers={"Retry-After": "60"},
            )
        return Response(
            content=pdf,
            media_type=PDF,
            headers={"Content-Disposition": attachment(f"invoice-{name}", "pdf")},
        )

    @get(
        "/payments/{provider:str}/{reference:str}/receipt",
        opt=READ,
        media_type="text/html",
        response_headers=_attachment_header('attachment; filename="receipt-ch_1A2b3C.html"'),
        operation_class=DocumentOperation,
        responses=problems(*AUTHENTICATED, 404, 503),
        summary="The payment's receipt as the provider renders it (Stripe: its receipt page, "
        "HTML); 404 no_receipt where the provider keeps none (Zuora)",
    )
    async def receipt(
        self, provider: ProviderName, reference: Reference, providers: NamedDependency[Providers]
    ) -> Response[bytes]:
        adapter = configured_adapter(providers, provider, frozenset())
        capabilities = capabilities_of(adapter)
        if Capability.RECEIPTS not in capabilities:
            raise _no_receipt(provider)
        if Capability.BILLING_HISTORY in capabilities:
            payment: Payment | None = await adapter.get_payment(reference)
            if payment is None:
                raise _not_found(provider, "payment", reference, "payments")
            if not payment.has_receipt:
                raise BillingError(
                    ErrorCode.NO_RECEIPT,
                    f"{provider.capitalize()} has no receipt for the payment {reference} "
                    f"(it is {payment.status}); send the invoice PDF instead.",
                    extra={"provider": provider},
                )
        body, media_type = await adapter.receipt(reference)
        return Response(
            content=masked_document(body, media_type),
            # the type alone: Litestar adds the charset of text types itself (utf-8, which
            # `masked_document` writes)
            media_type=base_media_type(media_type),
            headers={
                "Content-Disposition": attachment(
                    f"receipt-{reference}", EXTENSION_OF.get(base_media_type(media_type), "bin")
                )
            },
        )


def base_media_type(media_type: str) -> str:
    """`text/html; charset=utf-8` -> `text/html`."""
    return media_type.split(";", 1)[0].strip().lower()


def masked_document(body: bytes, media_type: str) -> bytes:
    """A text receipt with any card number or IBAN masked: providers print the last four
    only, and the gateway makes sure of it."""
    if not base_media_type(media_type).startswith("text/"):
        return body
    text = body.decode("utf-8", errors="replace")
    masked = redact_text(text)
    return body if masked == text else masked.encode()
