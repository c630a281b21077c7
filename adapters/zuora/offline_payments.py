"""The offline-payments side of ZuoraAdapter: a mailed cheque recorded as Zuora's own books keep
one, and taken back when it bounces.

A cheque is an External payment with the tenant's Check payment method, its `ReferenceId` the
number printed on the cheque and its `PaymentNumber` the one the gateway derives: that number
finds it again, before the write and after a write whose answer was lost, so a repeat creates
nothing. It is applied to one posted invoice (whose balance goes down; fully paid, Zuora calls it
paid) or, with no invoice, to the account's credit balance. A bounce cancels the payment: the
invoice is due again, the credit withdrawn.

Zuora's refusals say little (INVALID_VALUE and a message): after one, the adapter reads the
account and the invoice and says what a support agent can act on (`invoice_not_open`,
`cheque_exceeds_invoice`, `currency_mismatch`). SOAP's Payment has no currency (it is the
account's), so over SOAP the currency is checked before the write.
"""

from __future__ import annotations

from adapters.money import format_money
from adapters.ports import Invoice, NewOfflinePayment, OfflinePayment
from adapters.zuora.calls import operation
from adapters.zuora.corrections import ZuoraCorrections
from adapters.zuora.errors import from_zuora_error
from adapters.zuora.transport import UnknownOutcomeError, ZuoraTransport
from gateway.core.errors import BillingError, ErrorCode

# The look-up, the write, and the look-up after a lost answer, at most this many times.
RECORD_ROUNDS = 3
REFERENCE_MAX_LENGTH = 100  # Zuora's referenceId
COMMENT_MAX_LENGTH = 255  # Zuora's comment
CHECK = "Check"  # the tenant's payment method for cheques


class ZuoraOfflinePayments(ZuoraCorrections):  # its ZOQL reads, over either transport
    transport: ZuoraTransport

    async def find_offline_payment(
        self, account_id: str, payment_number: str
    ) -> OfflinePayment | None:
        return await self._dialect.history.offline_payment(account_id, payment_number)

    async def record_offline_payment(
        self, payment: NewOfflinePayment, *, idempotency_key: str
    ) -> OfflinePayment:
        self._cheque_fits_zuora(payment)
        with operation(idempotency_key):
            for _ in range(RECORD_ROUNDS):
                found = await self.find_offline_payment(payment.account_id, payment.payment_number)
                if found is not None:
                    return found  # recorded already: by this request, before its answer was lost
                if self.transport.name == "soap":
                    await self._same_currency(payment)  # SOAP sends none: Zuora cannot refuse
                method_id = await self._check_method()
                try:
                    await self.transport.create_external_payment(
                        payment, method_id, idempotency_key
                    )
                except UnknownOutcomeError:
                    continue  # it may have been made: look again before another write
                except BillingError as refusal:
                    # Made meanwhile under the same number (a concurrent repeat): that is it.
                    found = await self.find_offline_payment(
                        payment.account_id, payment.payment_number
                    )
                    if found is not None:
                        return found
                    raise await self._explained(payment, refusal) from None
            found = await self.find_offline_payment(payment.account_id, payment.payment_number)
            if found is None:
                raise from_zuora_error("SERVER_UNAVAILABLE", "recording the cheque")
            return found

    async def reverse_offline_payment(
        self, account_id: str, payment_number: str, *, reason: str, idempotency_key: str
    ) -> OfflinePayment:
        """Cancels the payment (the reason stays in the gateway's audit trail: Zuora's cancel
        takes none). Each round reads the payment first, so a repeat after a lost answer finds
        it canceled and returns it as it is."""
        with operation(idempotency_key):
            for _ in range(RECORD_ROUNDS + 1):
                found = await self.find_offline_payment(account_id, payment_number)
                if found is None:
                    raise BillingError(
                        ErrorCode.PROVIDER_NOT_FOUND,
                        f"Zuora has no payment numbered {payment_number} on the account "
                        f"{account_id}: it cannot be reversed there.",
                        extra={"payment_number": payment_number},
                    )
                if found.status == "reversed":
                    return found
                try:
                    await self.transport.cancel_payment(found.id, idempotency_key)
                except UnknownOutcomeError:
                    continue
                except BillingError:
                    # A refused repeat of a cancel that was made (its answer lost) ends the
                    # same as the cancel; any other refusal stands.
                    after = await self.find_offline_payment(account_id, payment_number)
                    if after is not None and after.status == "reversed":
                        return after
                    raise
            raise from_zuora_error("SERVER_UNAVAILABLE", "cancelling the cheque's payment")

    # -- helpers --------------------------------------------------------------------------

    async def _check_method(self) -> str:
        """The tenant's Check payment method (every tenant has one; it can be deactivated).
        Read for each cheque, not kept: an administrator may replace it at any time."""
        found = await self._dialect.history.tenant_payment_method(CHECK)
        if found is None:
            raise BillingError(
                ErrorCode.PROVIDER_REJECTED,
                "This Zuora tenant has no active Check payment method: activate it in "
                "Zuora's payment settings (Payment Methods), then record the cheque again.",
            )
        return found

    @staticmethod
    def _cheque_fits_zuora(payment: NewOfflinePayment) -> None:
        if payment.amount.amount_minor <= 0:
            raise BillingError(ErrorCode.VALIDATION_FAILED, "A cheque's amount must be positive.")
        if not payment.reference.strip() or len(payment.reference) > REFERENCE_MAX_LENGTH:
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                f"Zuora keeps a cheque reference of 1 to {REFERENCE_MAX_LENGTH} characters.",
                extra={"field": "reference", "max_length": REFERENCE_MAX_LENGTH},
            )
        if len(payment.description) > COMMENT_MAX_LENGTH:
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                f"Zuora keeps a payment comment of at most {COMMENT_MAX_LENGTH} characters.",
                extra={"field": "description", "max_length": COMMENT_MAX_LENGTH},
            )

    async def _same_currency(self, payment: NewOfflinePayment) -> None:
        refusal = await self._currency_refusal(payment)
        if refusal is not None:
            raise refusal

    async def _currency_refusal(self, payment: NewOfflinePayment) -> BillingError | None:
        account = await self._dialect.history.account(payment.account_id)
        if account is None:
            return BillingError(
                ErrorCode.CUSTOMER_NOT_FOUND, f"Zuora has no account {payment.account_id}."
            )
        currency = account[1].upper()
        if payment.amount.currency.upper() != currency:
            return BillingError(
                ErrorCode.CURRENCY_MISMATCH,
                f"The account {payment.account_id} is billed in {currency}: a cheque in "
                f"{payment.amount.currency.upper()} cannot be recorded on it.",
                extra={"account_currency": currency},
            )
        return None

    async def _explained(self, payment: NewOfflinePayment, refusal: BillingError) -> BillingError:
        """Zuora's refusal in words a support agent can act on, read off the account and the
        invoice as they are now; Zuora's own when they explain nothing."""
        wrong_currency = await self._currency_refusal(payment)
        if wrong_currency is not None:
            return wrong_currency
        if payment.invoice_id is None:
            return refusal
        invoice = await self._dialect.history.invoice(payment.invoice_id)
        account = await self._dialect.history.account(payment.account_id)
        if invoice is None or account is None or invoice.account_id != account[0]:
            return BillingError(
                ErrorCode.PROVIDER_NOT_FOUND,
                f"Zuora has no invoice {payment.invoice_id} on the account {payment.account_id}.",
                extra={"invoice_id": payment.invoice_id},
            )
        return _invoice_refusal(invoice, payment) or refusal


def _invoice_refusal(invoice: Invoice, payment: NewOfflinePayment) -> BillingError | None:
    name = invoice.number or invoice.id
    if invoice.status != "open":
        return BillingError(
            ErrorCode.INVOICE_NOT_OPEN,
            f"The invoice {name} is {invoice.status} at Zuora: a cheque can pay only an open "
            "invoice. Choose another invoice, or record the cheque as a credit for the next one.",
            extra={"invoice_id": invoice.id, "status": invoice.status},
        )
    if invoice.total.currency.upper() != payment.amount.currency.upper():
        return BillingError(
            ErrorCode.CURRENCY_MISMATCH,
            f"The invoice {name} is in {invoice.total.currency.upper()}: a cheque in "
            f"{payment.amount.currency.upper()} cannot pay it.",
            extra={"invoice_currency": invoice.total.currency.upper()},
        )
    balance = invoice.balance
    if payment.amount.amount_minor > balance.amount_minor:
        return BillingError(
            ErrorCode.CHEQUE_EXCEEDS_INVOICE,
            f"The invoice {name} has {format_money(balance.amount_minor, balance.currency)} left "
            "to pay: a cheque applied to it can be at most that. Record the rest as a credit "
            "for the next invoice.",
            extra={
                "invoice_id": invoice.id,
                "balance": {"amount_minor": balance.amount_minor, "currency": balance.currency},
            },
        )
    return None
