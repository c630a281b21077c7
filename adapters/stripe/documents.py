"""The Stripe adapter's documents: an invoice's PDF and a payment's receipt, fetched by the
gateway from the links Stripe gives (`invoice_pdf`, the latest charge's `receipt_url`). Mixed
into StripeAdapter.

A link is fetched only from Stripe's own hosts (`https://*.stripe.com`) or from an origin the
configuration trusts (the emulator's, in sandbox), and so is every redirect, hop by hop: an
answer that pointed elsewhere would make the gateway fetch, and hand to a support agent,
whatever that host serves. No Stripe key is sent (the links need none).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from adapters.stripe.mapping import plain
from gateway.core.errors import BillingError, ErrorCode

MAX_REDIRECTS = 5
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def allowed_document_url(url: str, trusted_origins: tuple[str, ...]) -> bool:
    """Stripe's own hosts over https, or exactly one of the trusted origins."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.username or parts.password:
        return False
    host = (parts.hostname or "").lower()
    stripes = host == "stripe.com" or host.endswith(".stripe.com")
    if stripes and parts.scheme == "https" and port in (None, 443):
        return True
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return origin in {trusted.rstrip("/").lower() for trusted in trusted_origins}


def _refused_host(url: str, what: str) -> BillingError:
    host = urlsplit(url).hostname or url
    return BillingError(
        ErrorCode.PROVIDER_REJECTED,
        f"Stripe's link to {what} points at {host}, which is not Stripe's; the gateway fetches "
        "documents from Stripe only. Open the document in Stripe's dashboard instead.",
        extra={"provider": "stripe", "host": host},
    )


async def fetch_document(
    url: str, trusted_origins: tuple[str, ...], timeout_seconds: float, what: str
) -> tuple[bytes, str]:
    """The body and media type at `url`, following allowed redirects only."""
    try:
        async with httpx.AsyncClient(follow_redirects=False, timeout=timeout_seconds) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                if not allowed_document_url(url, trusted_origins):
                    raise _refused_host(url, what)
                async with client.stream("GET", url) as answer:
                    if answer.is_redirect and "location" in answer.headers:
                        url = urljoin(url, answer.headers["location"])
                        continue
                    _check_status(answer.status_code, what)
                    body = bytearray()
                    async for chunk in answer.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_DOCUMENT_BYTES:
                            raise BillingError(
                                ErrorCode.PROVIDER_REJECTED,
                                f"Stripe's {what} is larger than the gateway passes on "
                                f"({MAX_DOCUMENT_BYTES // (1024 * 1024)} MB).",
                            )
                    media_type = answer.headers.get("content-type", "application/octet-stream")
                    return bytes(body), media_type
    except httpx.HTTPError:
        raise BillingError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            f"Stripe did not deliver {what} just now; try again in a moment.",
            extra={"provider": "stripe"},
            headers={"Retry-After": "5"},
        ) from None
    raise BillingError(
        ErrorCode.PROVIDER_REJECTED, f"Stripe's link to {what} redirected too many times."
    )


def _check_status(status: int, what: str) -> None:
    if status == 200:
        return
    if status >= 500 or status == 429:
        raise BillingError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            f"Stripe did not deliver {what} just now (HTTP {status}); try again in a moment.",
            extra={"provider": "stripe"},
            headers={"Retry-After": "5"},
        )
    raise BillingError(
        ErrorCode.PROVIDER_NOT_FOUND,
        f"Stripe no longer serves {what} at its link (HTTP {status}).",
        extra={"provider": "stripe"},
    )


class StripeDocuments:
    _stripe: Any
    _call: Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]
    _document_origins: tuple[str, ...]
    _document_timeout: float

    async def invoice_pdf(self, invoice_id: str) -> bytes:
        invoice = plain(
            await self._call(
                "reading the invoice", lambda: self._stripe.invoices.retrieve_async(invoice_id)
            )
        )
        url = invoice.get("invoice_pdf")
        if not url:
            raise BillingError(
                ErrorCode.PROVIDER_NOT_FOUND,
                f"Stripe makes an invoice's PDF once it is finalized; {invoice_id} is "
                f"{invoice.get('status')}.",
                extra={"provider": "stripe"},
            )
        what = f"the PDF of invoice {invoice.get('number') or invoice_id}"
        body, _media_type = await fetch_document(
            str(url), self._document_origins, self._document_timeout, what
        )
        if not body.startswith(b"%PDF"):
            raise BillingError(
                ErrorCode.PROVIDER_REJECTED,
                f"Stripe's link to {what} did not answer with a PDF.",
                extra={"provider": "stripe"},
            )
        return body

    async def receipt(self, payment_id: str) -> tuple[bytes, str]:
        """Stripe's receipt page of the payment's latest charge (HTML)."""
        intent = plain(
            await self._call(
                "reading the payment",
                lambda: self._stripe.payment_intents.retrieve_async(
                    payment_id, params={"expand": ["latest_charge"]}
                ),
            )
        )
        charge = intent.get("latest_charge")
        if isinstance(charge, str):
            charge = plain(
                await self._call(
                    "reading the charge", lambda: self._stripe.charges.retrieve_async(charge)
                )
            )
        url = (charge or {}).get("receipt_url")
        if not url:
            raise BillingError(
                ErrorCode.PROVIDER_NOT_FOUND,
                f"Stripe has no receipt for the payment {payment_id}: it makes one once a "
                "payment is charged.",
                extra={"provider": "stripe"},
            )
        return await fetch_document(
            str(url), self._document_origins, self._document_timeout, "the receipt"
        )
