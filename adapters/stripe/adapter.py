"""StripeAdapter: the provider-neutral ports over stripe-python's StripeClient (async).

The SEPA change for a customer, as a careful specialist does it in Stripe: a SetupIntent for
`sepa_debit` with the IBAN and the mandate (offline acceptance: the change was taken by phone or
mail), confirmed at once, which attaches the new method to the customer; then the new method
becomes the invoice default; then the old one is detached. Every POST carries a key derived from
the caller's idempotency key and the step, so Stripe answers a repeat instead of acting twice.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import stripe
from stripe.params import SetupIntentCreateParams

from adapters.ports import (
    Account,
    AccountLookup,
    Collection,
    Contact,
    NewSepaMethod,
    PaymentMethod,
    PostalAddress,
)
from adapters.recent import RecentReads
from adapters.retry import provider_retrying
from adapters.stripe.billing import StripeBilling
from adapters.stripe.calls import CallLog, StripeCall, under_key
from adapters.stripe.client import StripeConfig, derived_key, stripe_client
from adapters.stripe.connect import StripeConnect
from adapters.stripe.documents import StripeDocuments
from adapters.stripe.errors import from_stripe_error
from adapters.stripe.history import StripeHistory
from adapters.stripe.mapping import from_stripe_customer, from_stripe_payment_method, plain
from adapters.stripe.offline import StripeOfflinePayments
from adapters.stripe.radar import StripeRadar
from adapters.stripe.refunds import StripeRefunds
from adapters.stripe.units import from_stripe_amount, stripe_step
from gateway.core.errors import BillingError, ErrorCode

T = TypeVar("T")
RATE_LIMIT_ATTEMPTS = 4


def _metadata(method: NewSepaMethod) -> dict[str, str]:
    """What names the change on Stripe's side: webhooks about it find the request by this."""
    tags = {"mandate_reference": method.mandate_id}
    if method.change_request_id:
        tags["change_request_id"] = method.change_request_id
    return tags


def _billing_details(method: NewSepaMethod) -> dict[str, Any]:
    """sepa_debit needs the holder's name and email (Stripe's rule), and the address for IBANs
    of SEPA countries outside the EEA (GB, CH, MC, SM, VA, AD, GI)."""
    details: dict[str, Any] = {"name": method.holder, "email": method.email}
    if method.holder_address is not None:
        details["address"] = _address(method.holder_address)
    return details


def _address(address: PostalAddress) -> dict[str, str]:
    fields = {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": address.country,
    }
    return {name: value for name, value in fields.items() if value}


def _postal(address: Any) -> PostalAddress | None:
    if not isinstance(address, dict) or not any(address.values()):
        return None
    return PostalAddress(
        line1=address.get("line1"),
        line2=address.get("line2"),
        city=address.get("city"),
        postal_code=address.get("postal_code"),
        country=address.get("country"),
    )


def _search_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


class StripeAdapter(
    StripeBilling,
    StripeRefunds,
    StripeHistory,
    StripeDocuments,
    StripeConnect,
    StripeRadar,
    StripeOfflinePayments,
):
    provider = "stripe"
    transport_name = "api"

    def __init__(self, config: StripeConfig) -> None:
        self._calls = CallLog()
        client, self._http = stripe_client(config, self._calls)
        self._stripe = client.v1
        self._document_origins = config.document_origins
        self._document_timeout = config.timeout_seconds
        # Customers read a moment ago, until the next write (the pre-checks need one 3 times).
        self._customers = RecentReads[Any](writes=lambda: self._http.writes)

    @staticmethod
    def amount_step(currency: str) -> int:
        """The smallest amount Stripe takes in `currency`, in ISO minor units (KWD: 10)."""
        return stripe_step(currency)

    def last_write(self, idempotency_key: str) -> StripeCall | None:
        """The Stripe request that settled the write made under `idempotency_key` (the key
        given to the write port): its `provider_request_id` is Stripe's `Request-Id`."""
        return self._calls.last(idempotency_key)

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def _call(self, step: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call`; stripe-python retries 5xx and lost connections itself (with the same
        idempotency key), and rate limits (429) are retried here after a pause."""
        try:
            async for attempt in provider_retrying(
                lambda error: isinstance(error, stripe.RateLimitError),
                attempts=RATE_LIMIT_ATTEMPTS,
                max_backoff_seconds=2.0,
            ):
                with attempt:
                    return await call()
        except stripe.StripeError as error:
            raise from_stripe_error(error, step) from None
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def current_object(
        self, object_type: str, object_id: str, account: str | None = None
    ) -> dict[str, Any] | None:
        """An object's state now, for events that arrive out of order; `account` is the
        connected account of a Connect event (its payouts are read as that account)."""
        services = {
            "setup_intent": self._stripe.setup_intents,
            "payment_method": self._stripe.payment_methods,
            "mandate": self._stripe.mandates,
            "payout": self._stripe.payouts,
        }
        service = services.get(object_type)
        if service is None:
            return None
        options = {"stripe_account": account} if account else {}
        found = await self._call(
            "re-reading the object",
            lambda: service.retrieve_async(object_id, options=options),
        )
        return plain(found)

    # -- accounts ------------------------------------------------------------------------------

    async def find_account(self, lookup: AccountLookup) -> Account | None:
        step = "looking up the customer"
        customer_id = lookup.id or (
            lookup.number if (lookup.number or "").startswith("cus_") else None
        )
        if customer_id:
            try:
                found = await self._customer(customer_id)
            except BillingError as error:
                if error.code is ErrorCode.PROVIDER_NOT_FOUND:
                    return None
                raise
            return None if getattr(found, "deleted", False) else from_stripe_customer(found)
        clauses = [
            f"{field}:'{_search_text(value)}'"
            for field, value in (
                ("email", lookup.email),
                ("name", lookup.company_name),
                ("metadata['backoffice_id']", lookup.backoffice_id),
            )
            if value
        ]
        if not clauses:
            return None
        result = await self._call(
            step,
            lambda: self._stripe.customers.search_async(params={"query": " AND ".join(clauses)}),
        )
        matches = list(result.data)
        return from_stripe_customer(matches[0]) if len(matches) == 1 else None

    async def contact_of(self, account_id: str) -> Contact | None:
        """Who Stripe bills (a customer: name, email, address) or pays out to (a Connect
        account `acct_...`: the company's legal name, email and registered address)."""
        try:
            if account_id.startswith("acct_"):
                account = plain(
                    await self._call(
                        "reading the partner's account",
                        lambda: self._stripe.accounts.retrieve_async(account_id),
                    )
                )
                company = account.get("company") or {}
                return Contact(
                    name=company.get("name"),
                    email=account.get("email"),
                    address=_postal(company.get("address")),
                )
            customer = plain(await self._customer(account_id))
        except BillingError as error:
            if error.code is ErrorCode.PROVIDER_NOT_FOUND:
                return None
            raise
        if customer.get("deleted"):
            return None
        return Contact(
            name=customer.get("name"),
            email=customer.get("email"),
            address=_postal(customer.get("address")),
        )

    async def _customer(self, customer_id: str) -> Any:
        recent = self._customers.get(customer_id)
        if recent is not None:
            return recent
        found = await self._call(
            "looking up the customer", lambda: self._stripe.customers.retrieve_async(customer_id)
        )
        return self._customers.put(customer_id, found)

    # -- payment methods -----------------------------------------------------------------------

    async def list_payment_methods(self, account_id: str) -> Sequence[PaymentMethod]:
        customer = await self._customer(account_id)
        default = (plain(customer).get("invoice_settings") or {}).get("default_payment_method")
        methods = await self._call(
            "listing payment methods",
            lambda: self._stripe.customers.payment_methods.list_async(
                account_id, params={"limit": 100}
            ),
        )
        return [from_stripe_payment_method(method, default) for method in methods.data]

    async def collections_in_flight(self, account_id: str) -> Sequence[Collection]:
        """SEPA debits the customer's bank has not answered yet (`processing`): a new mandate
        under them would make them fail."""
        intents = await self._call(
            "reading the debits being collected",
            lambda: self._stripe.payment_intents.list_async(
                params={"customer": account_id, "limit": 100}
            ),
        )
        collections = []
        for intent in (plain(found) for found in intents.data):
            if intent.get("status") != "processing":
                continue
            if "sepa_debit" not in (intent.get("payment_method_types") or []):
                continue
            method = intent.get("payment_method")
            collections.append(
                Collection(
                    id=str(intent["id"]),
                    amount=from_stripe_amount(int(intent["amount"]), str(intent["currency"])),
                    status="processing",
                    payment_method_id=method if isinstance(method, str) else None,
                    effective_on=datetime.fromtimestamp(int(intent["created"]), UTC).date(),
                )
            )
        return collections

    @under_key
    async def create_sepa_payment_method(
        self,
        account_id: str,
        method: NewSepaMethod,
        *,
        idempotency_key: str,
        resumed: bool = True,  # unused: Stripe's idempotency key answers a repeat, no look-up
    ) -> PaymentMethod:
        step = "creating the SEPA payment method"
        if not method.email:
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                "Stripe needs the account holder's email for a SEPA mandate; ask the customer.",
            )
        signed_at = int(time.mktime(method.mandate_signed_on.timetuple()))
        params: SetupIntentCreateParams = {
            "customer": account_id,
            "payment_method_data": {
                "type": "sepa_debit",
                "sepa_debit": {"iban": method.iban},
                "billing_details": _billing_details(method),  # type: ignore[typeddict-item]
                "metadata": _metadata(method),
            },
            "mandate_data": {
                "customer_acceptance": {
                    "type": "offline",
                    "accepted_at": signed_at,
                }
            },
            "confirm": True,
            "usage": "off_session",
            "metadata": _metadata(method),
            "expand": ["payment_method"],  # the method in the same answer: no second read
        }
        intent = await self._call(
            step,
            lambda: self._stripe.setup_intents.create_async(
                params=params,
                options={"idempotency_key": derived_key(idempotency_key, "setup-intent")},
            ),
        )
        if intent.status != "succeeded":
            raise BillingError(
                ErrorCode.PROVIDER_REJECTED,
                f"Stripe did not confirm the SEPA mandate (status {intent.status}).",
                extra={"provider": "stripe", "provider_code": str(intent.status)},
            )
        created = intent["payment_method"]
        if isinstance(created, str):  # not expanded (an answer replayed from before)
            created = await self._call(
                step, lambda: self._stripe.payment_methods.retrieve_async(str(created))
            )
        return from_stripe_payment_method(created, None)

    @under_key
    async def set_default_payment_method(
        self, account_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> None:
        await self._call(
            "making the new payment method the invoice default",
            lambda: self._stripe.customers.update_async(
                account_id,
                params={"invoice_settings": {"default_payment_method": payment_method_id}},
                options={"idempotency_key": derived_key(idempotency_key, "default")},
            ),
        )

    @under_key
    async def close_payment_method(self, payment_method_id: str, *, idempotency_key: str) -> None:
        step = "detaching the old payment method"
        try:
            await self._call(
                step,
                lambda: self._stripe.payment_methods.detach_async(
                    payment_method_id,
                    options={"idempotency_key": derived_key(idempotency_key, "detach")},
                ),
            )
        except BillingError as refused:
            # Refused: read it only now; detached already (by hand, or under another key)
            # means the step is done.
            method = await self._call(
                step, lambda: self._stripe.payment_methods.retrieve_async(payment_method_id)
            )
            if method.customer is not None:
                raise refused from None
