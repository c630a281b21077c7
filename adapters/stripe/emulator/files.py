"""Where the emulator's document addresses lead (no Stripe key, as Stripe's own document
links need none): `GET /files/invoices/{id}.pdf` (the invoice's PDF, once finalized) and
`GET /receipts/{charge id}` (the receipt page of a charge). `GET /_emulator/redirect?to=...`
answers 302 to any address, so that tests can check a client never follows a document
link off the allowed hosts."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler

from adapters.stripe.emulator.documents import invoice_pdf, receipt_html
from adapters.stripe.emulator.face import StripeFace


def document_handlers(face: StripeFace) -> list[HTTPRouteHandler]:
    def found(kind: str, object_id: str) -> dict[str, Any]:
        record = face.account.objects.get(object_id)
        if record is None or record.get("object") != kind:
            raise NotFoundException(f"No such {kind}: {object_id}")
        return record

    @get("/files/invoices/{name:str}", media_type="application/pdf")
    async def invoice_file(name: str) -> Response[bytes]:
        invoice = found("invoice", name.removesuffix(".pdf"))
        if invoice.get("status") == "draft" or not name.endswith(".pdf"):
            raise NotFoundException("A draft invoice has no PDF yet.")
        customer = face.account.objects.get(str(invoice.get("customer")))
        return Response(invoice_pdf(invoice, customer), media_type="application/pdf")

    @get("/receipts/{charge_id:str}", media_type="text/html")
    async def receipt_page(charge_id: str) -> Response[str]:
        charge = found("charge", charge_id)
        if charge.get("status") != "succeeded":
            raise NotFoundException("A charge has a receipt once it succeeded.")
        customer = face.account.objects.get(str(charge.get("customer")))
        return Response(receipt_html(charge, customer), media_type="text/html; charset=utf-8")

    @get("/_emulator/redirect", status_code=302)
    async def redirect(to: str) -> Response[bytes]:
        return Response(b"", status_code=302, headers={"Location": to})

    return [invoice_file, receipt_page, redirect]
