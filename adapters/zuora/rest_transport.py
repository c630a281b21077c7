"""ZuoraTransport over the REST API: accounts, payment methods (`POST /v1/payment-methods`, type
SEPA), payments, refunds, subscriptions, Orders (`POST /v1/orders` with an UpdateProduct or
CancelSubscription action, and `/v1/orders/preview`), invoice files, and ZOQL through
`/v1/action/query` where no resource answers the question.

Every write carries an Idempotency-Key derived from the caller's key; orders also carry the
adapter's marker as their order number, which `GET /v1/orders/{number}` finds again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from adapters.ports import (
    Account,
    AccountLookup,
    Collection,
    Money,
    NewSepaMethod,
    PaymentMethod,
    QuantityChange,
    QuantityChangePreview,
    RecurringCharge,
    RefundResult,
    Subscription,
)
from adapters.zuora.errors import from_zuora_error
from adapters.zuora.mapping import (
    IN_FLIGHT_STATUSES,
    monthly_total,
    to_decimal,
    to_minor_units,
    zoql_text,
)
from adapters.zuora.rest_mapping import (
    from_rest_account,
    from_rest_payment_method,
    from_rest_subscription,
    rest_date,
)
from adapters.zuora.rest_session import ZuoraRest, derived_key
from adapters.zuora.transport import TransportName
from gateway.errors import BillingError, ErrorCode

PAGE_SIZE = 40  # Zuora's largest page for payments


class RestTransport:
    name: TransportName = "rest"

    def __init__(self, rest: ZuoraRest) -> None:
        self._rest = rest

    async def close(self) -> None:
        await self._rest.close()

    # -- accounts and payment methods ----------------------------------------------------------

    async def find_account(self, lookup: AccountLookup) -> Account | None:
        key = lookup.id or lookup.number or await self._account_id_by_query(lookup)
        if key is None:
            return None
        try:
            answer = await self._rest.request(
                "GET", f"/v1/accounts/{key}", "looking up the account"
            )
        except BillingError as error:
            if error.code is ErrorCode.PROVIDER_NOT_FOUND:
                return None
            raise
        account = from_rest_account(answer)
        if lookup.number and account.number != lookup.number:
            return None
        if lookup.company_name and account.name != lookup.company_name:
            return None
        return account

    async def _account_id_by_query(self, lookup: AccountLookup) -> str | None:
        """By company name (the Account) or email (its bill-to Contact), through ZOQL."""
        step = "looking up the account"
        owners: set[str] | None = None
        if lookup.company_name:
            zoql = f"select Id from Account where Name = {zoql_text(lookup.company_name)}"
            owners = {str(record["Id"]) for record in await self._query(zoql, step)}
        if lookup.email:
            by_email = {
                str(record["AccountId"])
                for field in ("WorkEmail", "PersonalEmail")
                for record in await self._query(
                    f"select AccountId from Contact where {field} = {zoql_text(lookup.email)}",
                    step,
                )
            }
            owners = by_email if owners is None else owners & by_email
        return owners.pop() if owners and len(owners) == 1 else None

    async def payment_methods(self, account: Account) -> Sequence[PaymentMethod]:
        return await self._methods(account.id)

    async def _methods(self, account_id: str) -> list[PaymentMethod]:
        answer = await self._rest.request(
            "GET", f"/v1/accounts/{account_id}/payment-methods", "listing payment methods"
        )
        default = answer.get("defaultPaymentMethodId")
        groups = ("creditcard", "debitcard", "ach", "banktransfer", "paypal")
        return [
            from_rest_payment_method(method, default)
            for group in groups
            for method in answer.get(group) or []
        ]

    async def payment_method_by_mandate(
        self, account_id: str, mandate_id: str
    ) -> PaymentMethod | None:
        methods = await self._methods(account_id)
        return next((method for method in methods if method.mandate_id == mandate_id), None)

    async def create_sepa(self, account_id: str, method: NewSepaMethod, key: str) -> None:
        body = {
            "accountKey": account_id,
            "type": "SEPA",
            "IBAN": method.iban,
            "businessIdentificationCode": method.bic,
            "accountHolderInfo": {
                "accountHolderName": method.holder,
                "email": method.email,
                "country": method.iban[:2],
            },
            "mandateInfo": {
                "mandateId": method.mandate_id,
                "mandateReceivedStatus": True,
                "existingMandateStatus": False,
                "mandateCreationDate": method.mandate_signed_on.isoformat(),
            },
            "makeDefault": False,  # switched as its own step, after the method exists
        }
        await self._rest.request(
            "POST",
            "/v1/payment-methods",
            "creating the SEPA payment method",
            json=body,
            idempotency_key=derived_key(key, "create-payment-method"),
        )

    async def set_default(self, account_id: str, payment_method_id: str, key: str) -> None:
        await self._rest.request(
            "PUT",
            f"/v1/accounts/{account_id}",
            "making the new payment method the account's default",
            json={"defaultPaymentMethodId": payment_method_id},
        )

    async def close_payment_method(self, payment_method_id: str, key: str) -> None:
        # REST has no "close": deleting is how a method stops being usable; the default
        # cannot be deleted, as over SOAP.
        await self._rest.request(
            "DELETE", f"/v1/payment-methods/{payment_method_id}", "closing the old payment method"
        )

    async def payments_in_flight(self, account: Account) -> Sequence[Collection]:
        step = "looking for collections in flight"
        found: list[Collection] = []
        page = 1
        while True:
            answer = await self._rest.request(
                "GET",
                "/v1/payments",
                step,
                params={"accountId": account.id, "page": page, "pageSize": PAGE_SIZE},
            )
            found += [
                Collection(
                    id=str(payment["id"]),
                    amount=Money(to_minor_units(payment["amount"]), account.currency),
                    status=str(payment["status"]),
                    payment_method_id=payment.get("paymentMethodId"),
                    effective_on=rest_date(payment.get("effectiveDate")),
                )
                for payment in answer.get("payments") or []
                if payment.get("status") in IN_FLIGHT_STATUSES
            ]
            if not answer.get("nextPage"):
                return found
            page += 1

    # -- subscriptions -------------------------------------------------------------------------

    async def active_subscription(self, account: Account) -> Subscription | None:
        answer = await self._rest.request(
            "GET", f"/v1/subscriptions/accounts/{account.id}", "reading the active subscription"
        )
        active = [s for s in answer.get("subscriptions") or [] if s.get("status") == "Active"]
        return from_rest_subscription(active[0]) if active else None

    async def subscription(self, number: str) -> Subscription:
        answer = await self._rest.request(
            "GET", f"/v1/subscriptions/{number}", "reading the subscription"
        )
        return from_rest_subscription(answer)

    async def _order(
        self, subscription: Subscription, action: dict[str, Any], effective: date
    ) -> dict[str, Any]:
        account = await self.find_account(AccountLookup(id=subscription.account_id))
        if account is None:
            raise from_zuora_error("INVALID_ID", "looking up the subscription's account")
        return {
            "orderDate": effective.isoformat(),
            "existingAccountNumber": account.number,
            "subscriptions": [{"subscriptionNumber": subscription.id, "orderActions": [action]}],
            "processingOptions": {"runBilling": False, "collectPayment": False},
        }

    @staticmethod
    def _update_product(change: QuantityChange) -> dict[str, Any]:
        when = change.effective_on.isoformat()
        return {
            "type": "UpdateProduct",
            "triggerDates": [
                {"name": name, "triggerDate": when}
                for name in ("ContractEffective", "ServiceActivation", "CustomerAcceptance")
            ],
            "updateProduct": {
                "chargeUpdates": [
                    {
                        "chargeNumber": change.charge_id,
                        "pricing": {"recurringPerUnit": {"quantity": change.quantity}},
                    }
                ]
            },
        }

    async def preview_update(
        self, subscription: Subscription, change: QuantityChange
    ) -> QuantityChangePreview:
        body = await self._order(subscription, self._update_product(change), change.effective_on)
        body["previewOptions"] = {
            "previewThruType": "NumberOfPeriods",
            "previewNumberOfPeriods": 1,
            "previewTypes": ["BillingDocs"],
        }
        answer = await self._rest.request(
            "POST", "/v1/orders/preview", "previewing the quantity change", json=body
        )
        invoices = (answer.get("previewResult") or {}).get("invoices") or []
        currency = subscription.charges[0].unit_price.currency
        after = tuple(
            RecurringCharge(c.id, c.name, change.quantity, c.unit_price, c.billing_period)
            if c.id == change.charge_id
            else c
            for c in subscription.charges
        )
        return QuantityChangePreview(
            effective_on=change.effective_on,
            next_invoice=Money(to_minor_units(invoices[0]["amount"]) if invoices else 0, currency),
            recurring_before=Money(monthly_total(subscription.charges), currency),
            recurring_after=Money(monthly_total(after), currency),
        )

    async def change_made(self, marker: str) -> bool:
        try:
            await self._rest.request("GET", f"/v1/orders/{marker}", "looking for an earlier order")
        except BillingError as error:
            if error.code is ErrorCode.PROVIDER_NOT_FOUND:
                return False
            raise
        return True

    async def update_product(
        self, subscription: Subscription, change: QuantityChange, marker: str, key: str
    ) -> None:
        body = await self._order(subscription, self._update_product(change), change.effective_on)
        await self._place(body, marker, key, "applying the quantity change")

    async def cancel(
        self, subscription: Subscription, effective_on: date, marker: str, key: str
    ) -> None:
        action = {
            "type": "CancelSubscription",
            "triggerDates": [
                {"name": "ContractEffective", "triggerDate": effective_on.isoformat()}
            ],
            "cancelSubscription": {
                "cancellationPolicy": "SpecificDate",
                "cancellationEffectiveDate": effective_on.isoformat(),
            },
        }
        body = await self._order(subscription, action, effective_on)
        await self._place(body, marker, key, "cancelling the subscription")

    async def _place(self, body: dict[str, Any], marker: str, key: str, step: str) -> None:
        await self._rest.request(
            "POST",
            "/v1/orders",
            step,
            json={**body, "orderNumber": marker},
            idempotency_key=derived_key(key, "order"),
        )

    # -- refunds and invoices ------------------------------------------------------------------

    async def refund_by_marker(self, payment_id: str, marker: str) -> RefundResult | None:
        records = await self._query(
            "select Id, Amount, Status, AccountId from Refund"
            f" where PaymentId = {zoql_text(payment_id)} and ReferenceID = {zoql_text(marker)}",
            "looking for an earlier refund",
        )
        if not records:
            return None
        account = await self.find_account(AccountLookup(id=str(records[0]["AccountId"])))
        currency = account.currency if account else "EUR"
        record = records[0]
        return RefundResult(
            str(record["Id"]),
            Money(to_minor_units(record["Amount"]), currency),
            str(record["Status"]),
        )

    async def refund(self, payment_id: str, amount: Money, marker: str, key: str) -> None:
        await self._rest.request(
            "POST",
            f"/v1/payments/{payment_id}/refunds",
            "refunding the payment",
            json={
                "type": "Electronic",
                "totalAmount": float(to_decimal(amount.amount_minor)),
                "referenceId": marker,
                "comment": "Refunded through billing-gateway",
            },
            idempotency_key=derived_key(key, "refund"),
        )

    async def invoice_pdf(self, invoice_id: str) -> bytes:
        step = "reading the invoice PDF"
        files = await self._rest.request("GET", f"/v1/invoices/{invoice_id}/files", step)
        newest = (files.get("invoiceFiles") or [None])[0]
        if newest is None:
            raise from_zuora_error("INVALID_ID", step)
        content = await self._rest.request("GET", str(newest["pdfFileUrl"]), step)
        if not isinstance(content, bytes):
            raise from_zuora_error("UNKNOWN_ERROR", step)
        return content

    # -- helpers -------------------------------------------------------------------------------

    async def _query(self, zoql: str, step: str) -> list[dict[str, Any]]:
        answer = await self._rest.request(
            "POST", "/v1/action/query", step, json={"queryString": zoql}
        )
        return list(answer.get("records") or [])
