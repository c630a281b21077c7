"""ZuoraAdapter: the provider-neutral ports over Zuora, through either transport (SOAP or REST).

The IBAN change, as a careful specialist does it in Zuora: create a payment method of type bank
transfer, SEPA, with the holder and mandate; make it the account's default; close the old one
(the default cannot be closed before it is switched). The tier change: preview the quantity
change on the customer's next billing-cycle day, then apply it there, so nothing is prorated.

Every write can be repeated safely. Before a write that Zuora might already have made (its answer
was lost), the adapter looks for it by a marker it set: the mandate reference on a payment
method, a name derived from the idempotency key on an amendment or order, the comment on a refund,
the gateway's payment number on a cheque (`offline_payments.py`).

Every call made inside a write carries a `Zuora-Track-Id` derived from its idempotency key, and
`last_write(key)` names the call that settled it (Zuora's request id and the track id), for the
fulfilment layer's record and audit trail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import TypeVar

from adapters.ports import (
    Account,
    AccountLookup,
    Collection,
    Contact,
    Money,
    NewSepaMethod,
    PaymentMethod,
    QuantityChange,
    QuantityChangePreview,
    RefundResult,
    Subscription,
    next_bill_cycle_date,
)
from adapters.recent import RecentReads
from adapters.zuora.callout_history import CalloutHistoryReads
from adapters.zuora.calls import ProviderCall, operation
from adapters.zuora.errors import from_zuora_error
from adapters.zuora.mapping import refund_comment
from adapters.zuora.offline_payments import ZuoraOfflinePayments
from adapters.zuora.transport import UnknownOutcomeError, ZuoraTransport
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import mask_iban

WRITE_ATTEMPTS = 3
HOLDER_MAX_LENGTH = 60  # Zuora's accountHolderName (REST) and BankTransferAccountName (SOAP)
MANDATE_ID_MAX_LENGTH = 36  # Zuora's mandateId
T = TypeVar("T")


def marker_of(idempotency_key: str, *what: object) -> str:
    """A short, stable reference for a write, stored on what Zuora makes. It covers what is
    written as well as the key, so a key reused for another change never hides that change
    (and Zuora's name and reference fields are short, and should not show a client's key)."""
    text = "|".join([idempotency_key, *map(str, what)])
    return "BG-" + hashlib.sha256(text.encode()).hexdigest()[:24].upper()


def _just_made(method_id: str, method: NewSepaMethod) -> PaymentMethod:
    """The method Zuora just made, as its answer and the request tell it (masked)."""
    return PaymentMethod(
        id=method_id,
        kind="sepa_debit",
        active=True,
        is_default=False,
        masked=mask_iban(method.iban),
        holder=method.holder,
        bic=method.bic,
        mandate_id=method.mandate_id,
    )


# + callout_history, corrections, offline payments (cheques: corrections' reads, and more)
class ZuoraAdapter(CalloutHistoryReads, ZuoraOfflinePayments):
    provider = "zuora"

    def __init__(self, transport: ZuoraTransport) -> None:
        self.transport = transport
        self._accounts = RecentReads[Account]()  # by id; any write forgets them all

    @property
    def transport_name(self) -> str:
        return self.transport.name

    async def close(self) -> None:
        await self.transport.close()

    def last_write(self, idempotency_key: str) -> ProviderCall | None:
        """The call that settled the write made under `idempotency_key` in this process: the
        write itself, or the look-up that found it already made. None if no call was made."""
        return self.transport.calls.last(idempotency_key)

    # -- accounts ------------------------------------------------------------------------------

    async def find_account(self, lookup: AccountLookup) -> Account | None:
        found = await self.transport.find_account(lookup)
        return self._accounts.put(found.id, found) if found is not None else None

    async def contact_of(self, account_id: str) -> Contact | None:
        """The account's bill-to contact (name, email, postal address), as Zuora keeps it."""
        return await self.transport.bill_to_contact(account_id)

    # -- payment methods -----------------------------------------------------------------------

    async def list_payment_methods(self, account_id: str) -> Sequence[PaymentMethod]:
        return await self.transport.payment_methods(await self._account(account_id))

    async def create_sepa_payment_method(
        self,
        account_id: str,
        method: NewSepaMethod,
        *,
        idempotency_key: str,
        resumed: bool = True,
    ) -> PaymentMethod:
        """The mandate reference (unique per change, set by the caller) finds an earlier attempt
        before the create (skipped when the caller knows none can exist: `resumed=False`), and
        after a create whose answer was lost; a create Zuora answered names the new method's
        id, and needs no second read. REST also sends `idempotency_key`, so that Zuora itself
        answers a repeat."""
        self._fits_zuora(method)
        made: list[PaymentMethod] = []

        async def earlier() -> PaymentMethod | None:
            return (
                made[0]
                if made
                else await self.transport.payment_method_by_mandate(account_id, method.mandate_id)
            )

        async def create() -> None:
            made_id = await self.transport.create_sepa(account_id, method, idempotency_key)
            if made_id:
                made.append(_just_made(made_id, method))

        self._accounts.clear()
        with operation(idempotency_key):
            return await self._exactly_once(
                earlier, create, "creating the SEPA payment method", look_first=resumed
            )

    async def set_default_payment_method(
        self, account_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> None:
        # Setting the same default twice changes nothing: no read first.
        self._accounts.clear()
        with operation(idempotency_key):
            await self.transport.set_default(account_id, payment_method_id, idempotency_key)

    async def close_payment_method(self, payment_method_id: str, *, idempotency_key: str) -> None:
        self._accounts.clear()
        with operation(idempotency_key):
            await self.transport.close_payment_method(payment_method_id, idempotency_key)

    # -- collections ---------------------------------------------------------------------------

    async def collections_in_flight(self, account_id: str) -> Sequence[Collection]:
        return await self.transport.payments_in_flight(await self._account(account_id))

    # -- subscriptions -------------------------------------------------------------------------

    async def active_subscription(self, account_id: str) -> Subscription | None:
        return await self.transport.active_subscription(await self._account(account_id))

    async def preview_quantity_change(self, change: QuantityChange) -> QuantityChangePreview:
        subscription = await self._checked(change)
        return await self.transport.preview_update(subscription, change)

    async def apply_quantity_change(
        self, change: QuantityChange, *, idempotency_key: str
    ) -> Subscription:
        with operation(idempotency_key):
            return await self._apply_quantity_change(change, idempotency_key)

    async def _apply_quantity_change(
        self, change: QuantityChange, idempotency_key: str
    ) -> Subscription:
        self._accounts.clear()
        subscription = await self._checked(change)
        marker = marker_of(
            idempotency_key, change.subscription_id, change.charge_id, change.quantity
        )

        async def earlier() -> Subscription | None:
            if await self.transport.change_made(marker):
                return await self.transport.subscription(change.subscription_id)
            return None

        async def apply() -> None:
            await self.transport.update_product(subscription, change, marker, idempotency_key)

        return await self._exactly_once(earlier, apply, "applying the quantity change")

    async def cancel_subscription(
        self, subscription_id: str, effective_on: date, *, idempotency_key: str
    ) -> None:
        with operation(idempotency_key):
            await self._cancel_subscription(subscription_id, effective_on, idempotency_key)

    async def _cancel_subscription(
        self, subscription_id: str, effective_on: date, idempotency_key: str
    ) -> None:
        subscription = await self.transport.subscription(subscription_id)
        marker = marker_of(idempotency_key, subscription_id, effective_on)

        async def earlier() -> bool | None:
            return True if await self.transport.change_made(marker) else None

        async def cancel() -> None:
            await self.transport.cancel(subscription, effective_on, marker, idempotency_key)

        await self._exactly_once(earlier, cancel, "cancelling the subscription")

    # -- refunds and invoices ------------------------------------------------------------------

    async def refund_payment(
        self, payment_id: str, amount: Money, *, idempotency_key: str
    ) -> RefundResult:
        marker = marker_of(idempotency_key, payment_id, amount)

        async def earlier() -> RefundResult | None:
            return await self._dialect.history.refund_with_comment(
                payment_id, refund_comment(marker)
            )

        async def refund() -> None:
            # Never beyond what is left: refused in the gateway's words (what is left), after
            # the look-up above has found no earlier refund under this key.
            await self._check_refundable(payment_id, amount)
            await self.transport.refund(payment_id, amount, marker, idempotency_key)

        with operation(idempotency_key):
            return await self._exactly_once(earlier, refund, "refunding the payment")

    async def invoice_pdf(self, invoice_id: str) -> bytes:
        return await self.transport.invoice_pdf(invoice_id)

    # -- helpers -------------------------------------------------------------------------------

    async def _account(self, account_id: str) -> Account:
        """The account, as read a moment ago when it was (the pre-checks read it several
        times in a row)."""
        account = self._accounts.get(account_id) or await self.find_account(
            AccountLookup(id=account_id)
        )
        if account is None:
            raise from_zuora_error("INVALID_ID", "looking up the account")
        return account

    @staticmethod
    def _fits_zuora(method: NewSepaMethod) -> None:
        """Zuora refuses a longer holder name or mandate id: say so before calling it."""
        if len(method.holder) > HOLDER_MAX_LENGTH:
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                f"Zuora keeps at most {HOLDER_MAX_LENGTH} characters of an account holder's "
                "name: file the request again with the holder's name as the bank has it, "
                "shortened to fit.",
                extra={"field": "account_holder", "max_length": HOLDER_MAX_LENGTH},
            )
        if len(method.mandate_id) > MANDATE_ID_MAX_LENGTH:
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                f"Zuora keeps mandate references of at most {MANDATE_ID_MAX_LENGTH} characters.",
                extra={"field": "mandate_id", "max_length": MANDATE_ID_MAX_LENGTH},
            )

    async def _checked(self, change: QuantityChange) -> Subscription:
        """The subscription, once the change is one a careful specialist would make: a charge
        that is on it, a positive quantity, on the customer's next billing-cycle day."""
        subscription = await self.transport.subscription(change.subscription_id)
        if change.charge_id not in {charge.id for charge in subscription.charges}:
            raise BillingError(
                ErrorCode.PROVIDER_NOT_FOUND,
                f"The subscription {subscription.id} has no recurring charge {change.charge_id}.",
            )
        if change.quantity < 1:
            raise BillingError(ErrorCode.VALIDATION_FAILED, "The new quantity must be at least 1.")
        account = await self._account(subscription.account_id)
        if account.bill_cycle_day is not None:
            due = next_bill_cycle_date(account.bill_cycle_day, date.today())
            if change.effective_on != due:
                raise BillingError(
                    ErrorCode.NOT_ON_BILLING_DAY,
                    f"A tier change takes effect on the customer's next billing-cycle day, "
                    f"{due.isoformat()}, not {change.effective_on.isoformat()}.",
                    extra={"effective_on": due.isoformat()},
                )
        return subscription

    @staticmethod
    async def _exactly_once(
        earlier: Callable[[], Awaitable[T | None]],
        write: Callable[[], Awaitable[None]],
        step: str,
        *,
        look_first: bool = True,
    ) -> T:
        """Look for the write's result; make it only if it is not there; when its answer is
        lost, look again before another try. Returns what Zuora holds afterwards.
        `look_first=False` skips only the first look (a first attempt: nothing to find)."""
        for attempt in range(WRITE_ATTEMPTS):
            found = await earlier() if look_first or attempt else None
            if found is not None:
                return found
            try:
                await write()
            except UnknownOutcomeError:
                continue  # it may have been made: look again before another write
        found = await earlier()
        if found is None:
            raise from_zuora_error("SERVER_UNAVAILABLE", step)
        return found
