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

from adapters.ports import Capability, capabilities_of
from gateway.api_keys.scopes import Scope
from gateway.billing import documents
from gateway.billing.customers import configured_adapter, find_customer, require_capability
from gateway.billing.history_mapping import (
    customer_ref,
    invoice_out,
    payment_out,
    refunds_by_payment,
)
from gateway.billing.history_schemas import InvoiceList, PaymentList
from gateway.edge.auth import SCOPE_OPT
from gateway.edge.openapi import AUTHENTICATED, SECURITY, problems
from gateway.providers import Providers

READ = {SCOPE_OPT: Scope.BILLING_READ.value}
FIND_ACCOUNTS = frozenset({Capability.ACCOUNTS})
# Refunds are read per customer, newest first: enough to cover the payments listed.
REFUNDS_READ = 100
PDF = documents.PDF

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


class HistoryController(Controller):
    tags = ["billing"]
    security = SECURITY

    @get(
        "/customers/{provider:str}/{reference:str}/invoices",
        operation_id="listCustomerInvoices",
        opt=READ,
        responses=problems(
            *AUTHENTICATED, 404, 503, codes=["customer_not_found", "provider_unavailable"]
        ),
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
        operation_id="listCustomerPayments",
        opt=READ,
        responses=problems(
            *AUTHENTICATED, 404, 503, codes=["customer_not_found", "provider_unavailable"]
        ),
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
        operation_id="getInvoicePdf",
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
        return _response(await documents.invoice_pdf(adapter, provider, reference))

    @get(
        "/payments/{provider:str}/{reference:str}/receipt",
        operation_id="getPaymentReceipt",
        opt=READ,
        media_type="text/html",
        response_headers=_attachment_header('attachment; filename="receipt-ch_1A2b3C.html"'),
        operation_class=DocumentOperation,
        responses=problems(*AUTHENTICATED, 404, 503, codes=["no_receipt", "provider_not_found"]),
        summary="The payment's receipt as the provider renders it (Stripe: its receipt page, "
        "HTML); 404 no_receipt where the provider keeps none (Zuora)",
    )
    async def receipt(
        self, provider: ProviderName, reference: Reference, providers: NamedDependency[Providers]
    ) -> Response[bytes]:
        adapter = configured_adapter(providers, provider, frozenset())
        return _response(await documents.receipt(adapter, provider, reference))


def _response(document: documents.Document) -> Response[bytes]:
    return Response(
        content=document.body,
        media_type=document.media_type,
        headers={"Content-Disposition": document.disposition},
    )
