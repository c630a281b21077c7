"""The billing-corrections side of ZuoraAdapter: what a support agent looks at (invoices,
payments, refunds, subscriptions with their paid period) and voiding an invoice, with Zuora's
rules kept.

Voiding is Zuora's cancel: only a posted invoice with nothing paid or credited on it (its balance
is still its amount) can be cancelled, and Zuora cancels a posted invoice in two steps, unpost
(back to Draft), then cancel. Each round reads the invoice first and takes the one step its
status calls for, so a repeat after a lost answer carries on from where Zuora is: an invoice
already Canceled is left as it is. A paid or partly paid invoice is refused (`invoice_not_open`).
Zuora renders no receipts: this adapter has no `receipt`.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.money import format_money
from adapters.ports import Invoice, Money, Payment, RefundResult, Subscription
from adapters.zuora.calls import operation
from adapters.zuora.dialects import ZuoraDialect, dialect_of
from adapters.zuora.errors import from_zuora_error
from adapters.zuora.transport import UnknownOutcomeError, ZuoraTransport
from gateway.core.errors import BillingError, ErrorCode

# Unpost and cancel, each possibly repeated once after a lost answer, and the read that ends it.
VOID_ROUNDS = 5


class ZuoraCorrections:
    transport: ZuoraTransport
    _dialect_cache: ZuoraDialect | None = None

    @property
    def _dialect(self) -> ZuoraDialect:
        if self._dialect_cache is None:
            self._dialect_cache = dialect_of(self.transport)
        return self._dialect_cache

    # -- billing history --------------------------------------------------------------------

    async def list_invoices(self, account_id: str, *, limit: int = 50) -> Sequence[Invoice]:
        return await self._dialect.history.invoices(account_id, limit)

    async def get_invoice(self, invoice_id: str) -> Invoice | None:
        return await self._dialect.history.invoice(invoice_id)

    async def list_payments(self, account_id: str, *, limit: int = 50) -> Sequence[Payment]:
        return await self._dialect.history.payments(account_id, limit)

    async def get_payment(self, payment_id: str) -> Payment | None:
        return await self._dialect.history.payment(payment_id)

    async def list_refunds(self, account_id: str, *, limit: int = 50) -> Sequence[RefundResult]:
        return await self._dialect.history.refunds(account_id, limit)

    async def list_subscriptions(self, account_id: str) -> Sequence[Subscription]:
        """Every subscription of the account but superseded versions, with the period it has
        paid for (`adapters.zuora.terms`)."""
        return await self._dialect.subscriptions(account_id)

    async def get_subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription by its number (or id), latest version; None when Zuora has none."""
        try:
            return await self.transport.subscription(subscription_id)
        except BillingError as error:
            if error.code is ErrorCode.PROVIDER_NOT_FOUND:
                return None
            raise

    # -- voiding ----------------------------------------------------------------------------

    async def void_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        with operation(idempotency_key):
            for _ in range(VOID_ROUNDS):
                invoice = await self._dialect.history.invoice(invoice_id)
                if invoice is None:
                    raise BillingError(
                        ErrorCode.PROVIDER_NOT_FOUND, f"Zuora has no invoice {invoice_id}."
                    )
                if invoice.status == "void":
                    return  # cancelled already: by this request before its answer was lost
                self._voidable(invoice)
                try:
                    if invoice.status == "open":
                        await self._dialect.unpost_invoice(invoice.id)
                    else:  # a draft: unposted by an earlier round, or never posted
                        await self._dialect.cancel_invoice(invoice.id)
                except UnknownOutcomeError:
                    continue  # read again: the step may have been made
                except BillingError:
                    # A refused repeat of a step that was made (a lost answer, retried): go on
                    # from where Zuora is; a refusal that changed nothing stands.
                    after = await self._dialect.history.invoice(invoice.id)
                    if after is None or after.status == invoice.status:
                        if after is not None:
                            self._voidable(after)  # paid in the meantime: say so
                        raise
            raise from_zuora_error("SERVER_UNAVAILABLE", "cancelling the invoice")

    @staticmethod
    def _voidable(invoice: Invoice) -> None:
        if invoice.status == "draft":
            return
        if invoice.status == "open" and invoice.balance == invoice.total:
            return
        name = invoice.number or invoice.id
        state = "paid" if invoice.status == "paid" else "partly paid"
        raise BillingError(
            ErrorCode.INVOICE_NOT_OPEN,
            f"The invoice {name} is {state}: Zuora voids only an open invoice with nothing paid "
            "or credited on it. Refund its payment instead.",
            extra={"invoice_id": invoice.id, "status": invoice.status},
        )

    # -- refunds ----------------------------------------------------------------------------

    async def _check_refundable(self, payment_id: str, amount: Money) -> None:
        """Refuses, before Zuora is asked, a refund beyond what is left of the payment."""
        payment = await self._dialect.history.payment(payment_id)
        if payment is None:
            raise BillingError(ErrorCode.PROVIDER_NOT_FOUND, f"Zuora has no payment {payment_id}.")
        if payment.status != "succeeded":
            raise BillingError(
                ErrorCode.PAYMENT_NOT_REFUNDABLE,
                f"The payment {payment_id} is {payment.status}: only a processed payment can be "
                "refunded.",
                extra={"payment_id": payment_id, "status": payment.status},
            )
        left = payment.refundable
        if amount.currency.upper() != left.currency.upper() or not (
            0 < amount.amount_minor <= left.amount_minor
        ):
            raise BillingError(
                ErrorCode.REFUND_EXCEEDS_PAYMENT,
                f"{format_money(left.amount_minor, left.currency)} is left to refund on this "
                f"payment: a refund must be positive, in {left.currency.upper()}, and at most "
                "that.",
                extra={
                    "refundable": {"amount_minor": left.amount_minor, "currency": left.currency}
                },
            )
