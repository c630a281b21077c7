"""A customer's invoices, payments and refunds read from Zuora through ZOQL: SOAP's `query` or
REST's `/v1/action/query`, the same statements either way (REST has no list of an account's
invoices with their payments; ZOQL reads them in a few calls).

Which invoices a payment paid comes from InvoicePayment (Zuora's record of how much of a payment
went to an invoice); which subscription an invoice bills, from its InvoiceItems. Zuora has no
ORDER BY in ZOQL: lists are sorted here, newest first. (A tenant with Invoice Settlement keeps
payment parts instead of InvoicePayment records: there a payment names no invoice here.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from adapters.ports import Invoice, OfflinePayment, Payment, RefundResult
from adapters.zuora.history_mapping import (
    INVOICE_FIELDS,
    METHOD_FIELDS,
    OFFLINE_PAYMENT_FIELDS,
    PAYMENT_FIELDS,
    REFUND_FIELDS,
    field,
    masked_method,
    newest_first,
    to_invoice,
    to_offline_payment,
    to_payment,
    to_refund,
)
from adapters.zuora.mapping import zoql_text

Query = Callable[[str, str], Awaitable[list[Any]]]  # (zoql, step) -> records
IDS_PER_QUERY = 50  # ids joined by `or` in one statement, well under ZOQL's limit


class ZoqlHistory:
    def __init__(self, query: Query) -> None:
        self._query = query

    # -- accounts -------------------------------------------------------------------------------

    async def account(self, key: str) -> tuple[str, str] | None:
        """(id, currency) of the account with this id or number."""
        text = zoql_text(key)
        records = await self._query(
            f"select Id, Currency from Account where Id = {text} or AccountNumber = {text}",
            "looking up the account",
        )
        if not records:
            return None
        return str(field(records[0], "Id")), str(field(records[0], "Currency"))

    async def _currency(self, account_id: str) -> str:
        found = await self.account(account_id)
        return found[1] if found else "EUR"

    # -- invoices -------------------------------------------------------------------------------

    async def invoices(self, account_key: str, limit: int) -> list[Invoice]:
        found = await self.account(account_key)
        if found is None:
            return []
        account_id, currency = found
        records = await self._query(
            f"select {INVOICE_FIELDS} from Invoice where AccountId = {zoql_text(account_id)}",
            "listing the invoices",
        )
        chosen = newest_first(records, "InvoiceDate")[:limit]
        return await self._invoices(chosen, currency)

    async def invoice(self, invoice_id: str) -> Invoice | None:
        text = zoql_text(invoice_id)
        records = await self._query(
            f"select {INVOICE_FIELDS} from Invoice where Id = {text} or InvoiceNumber = {text}",
            "reading the invoice",
        )
        if not records:
            return None
        currency = await self._currency(str(field(records[0], "AccountId")))
        [invoice] = await self._invoices(records[:1], currency)
        return invoice

    async def _invoices(self, records: list[Any], currency: str) -> list[Invoice]:
        ids = [str(field(record, "Id")) for record in records]
        payments = await self._links("InvoicePayment", "InvoiceId", ids, "PaymentId")
        subscriptions = await self._links("InvoiceItem", "InvoiceId", ids, "SubscriptionNumber")
        return [
            to_invoice(
                record,
                currency,
                next(iter(subscriptions.get(invoice_id, ())), None),
                tuple(payments.get(invoice_id, ())),
            )
            for record, invoice_id in zip(records, ids, strict=True)
        ]

    # -- payments -------------------------------------------------------------------------------

    async def payments(self, account_key: str, limit: int) -> list[Payment]:
        found = await self.account(account_key)
        if found is None:
            return []
        account_id, currency = found
        records = await self._query(
            f"select {PAYMENT_FIELDS} from Payment where AccountId = {zoql_text(account_id)}",
            "listing the payments",
        )
        chosen = newest_first(records, "CreatedDate", "EffectiveDate")[:limit]
        return await self._payments(chosen, account_id, currency)

    async def payment(self, payment_id: str) -> Payment | None:
        records = await self._query(
            f"select {PAYMENT_FIELDS} from Payment where Id = {zoql_text(payment_id)}",
            "reading the payment",
        )
        if not records:
            return None
        account_id = str(field(records[0], "AccountId"))
        currency = await self._currency(account_id)
        [payment] = await self._payments(records[:1], account_id, currency)
        return payment

    async def _payments(self, records: list[Any], account_id: str, currency: str) -> list[Payment]:
        if not records:
            return []
        ids = [str(field(record, "Id")) for record in records]
        invoices = await self._links("InvoicePayment", "PaymentId", ids, "InvoiceId")
        masks = await self._masks(account_id)
        return [
            to_payment(
                record,
                currency,
                tuple(invoices.get(payment_id, ())),
                masks.get(str(field(record, "PaymentMethodId"))),
            )
            for record, payment_id in zip(records, ids, strict=True)
        ]

    async def _masks(self, account_id: str) -> dict[str, str | None]:
        records = await self._query(
            f"select {METHOD_FIELDS} from PaymentMethod where AccountId = {zoql_text(account_id)}",
            "reading the payment methods",
        )
        return {str(field(record, "Id")): masked_method(record) for record in records}

    # -- external payments (cheques) --------------------------------------------------------

    async def offline_payment(self, account_id: str, number: str) -> OfflinePayment | None:
        """The account's payment with this payment number, the invoice it paid and that
        invoice's status as Zuora states it now; None when there is none."""
        records = await self._query(
            f"select {OFFLINE_PAYMENT_FIELDS} from Payment"
            f" where AccountId = {zoql_text(account_id)} and PaymentNumber = {zoql_text(number)}",
            "looking for the payment by its number",
        )
        if not records:
            return None
        record = records[0]
        payment_id = str(field(record, "Id"))
        links = await self._links("InvoicePayment", "PaymentId", [payment_id], "InvoiceId")
        invoice_id = next(iter(links.get(payment_id, ())), None)
        invoice = await self.invoice(invoice_id) if invoice_id else None
        currency = invoice.total.currency if invoice else await self._currency(account_id)
        return to_offline_payment(record, currency, invoice_id, invoice.status if invoice else None)

    async def tenant_payment_method(self, kind: str) -> str | None:
        """The id of the tenant's own payment method of this type (Check, Cash...): the one
        that belongs to no account, which external payments are recorded with."""
        records = await self._query(
            f"select Id, Type from PaymentMethod where Type = {zoql_text(kind)}"
            " and AccountId = null",
            "looking up the tenant's payment method",
        )
        return str(field(records[0], "Id")) if records else None

    # -- refunds --------------------------------------------------------------------------------

    async def refunds(self, account_key: str, limit: int) -> list[RefundResult]:
        found = await self.account(account_key)
        if found is None:
            return []
        account_id, currency = found
        records = await self._query(
            f"select {REFUND_FIELDS} from Refund where AccountId = {zoql_text(account_id)}",
            "listing the refunds",
        )
        return [
            to_refund(record, currency)
            for record in newest_first(records, "CreatedDate", "RefundDate")[:limit]
        ]

    async def refund_with_comment(self, payment_id: str, comment: str) -> RefundResult | None:
        """The payment's refund that carries `comment` (the adapter's marker), if any."""
        records = await self._query(
            f"select {REFUND_FIELDS} from Refund where PaymentId = {zoql_text(payment_id)}"
            f" and Comment = {zoql_text(comment)}",
            "looking for an earlier refund",
        )
        if not records:
            return None
        return to_refund(records[0], await self._currency(str(field(records[0], "AccountId"))))

    # -- helpers --------------------------------------------------------------------------------

    async def _links(
        self, kind: str, by: str, ids: Iterable[str], wanted: str
    ) -> dict[str, list[str]]:
        """`by` value -> the `wanted` values of the `kind` records that name it (distinct, in
        the order Zuora returns them)."""
        found: dict[str, list[str]] = defaultdict(list)
        pending = list(ids)
        for start in range(0, len(pending), IDS_PER_QUERY):
            chunk = pending[start : start + IDS_PER_QUERY]
            where = " or ".join(f"{by} = {zoql_text(one)}" for one in chunk)
            for record in await self._query(
                f"select {by}, {wanted} from {kind} where {where}", f"reading the {kind} records"
            ):
                value = field(record, wanted)
                owner = str(field(record, by))
                if value is not None and str(value) not in found[owner]:
                    found[owner].append(str(value))
        return found
