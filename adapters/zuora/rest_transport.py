"""ZuoraTransport over the REST API: accounts, payment methods (`POST /v1/payment-methods`, type
SEPA), payments, refunds, subscriptions, Orders (`POST /v1/orders` with an UpdateProduct or
CancelSubscription action, and `/v1/orders/preview`), invoice files, external payments (cheques:
`POST /v1/payments`, `PUT /v1/payments/{id}/cancel`), and ZOQL through `/v1/action/query` where
no resource answers the question.

Every write carries an Idempotency-Key derived from the caller's key; orders also carry the
adapter's marker as their order number, which `GET /v1/orders/{number}` finds again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import Any

from adapters.money import from_minor_units, to_minor_units
from adapters.ports import (
    Account,
    AccountLookup,
    Collection,
    Contact,
    Money,
    NewOfflinePayment,
    NewSepaMethod,
    PaymentMethod,
    QuantityChange,
    QuantityChangePreview,
    RefundResult,
    Subscription,
)
from adapters.zuora.errors import from_zuora_error
from adapters.zuora.mapping import (
    CONTACT_FIELDS,
    SUBMITTED,
    from_zuora_contact,
    refund_comment,
    zoql_text,
)
from adapters.zuora.pricing import PricedCharge, monthly_minor, priced, rest_pricing
from adapters.zuora.rest_mapping import (
    from_rest_account,
    from_rest_payment_method,
    from_rest_subscription,
    rest_date,
)
from adapters.zuora.rest_session import ZuoraRest, derived_key
from adapters.zuora.transport import TransportName
from gateway.core.errors import BillingError, ErrorCode

PAGE_SIZE = 40  # Zuora's largest page for payments
# A payment run that has not finished collecting: Pending (not started) or Processing.
RUNS_IN_FLIGHT = ("Pending", "Processing")


class RestTransport:
    name: TransportName = "rest"

    def __init__(self, rest: ZuoraRest) -> None:
        self._rest = rest
        self.calls = rest.calls

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
        """By company name or back-office id (CrmId) (the Account) or email (its bill-to
        Contact), through ZOQL."""
        step = "looking up the account"
        owners: set[str] | None = None
        if lookup.company_name:
            zoql = f"select Id from Account where Name = {zoql_text(lookup.company_name)}"
            owners = {str(record["Id"]) for record in await self._query(zoql, step)}
        if lookup.backoffice_id:
            zoql = f"select Id from Account where CrmId = {zoql_text(lookup.backoffice_id)}"
            by_crm = {str(record["Id"]) for record in await self._query(zoql, step)}
            owners = by_crm if owners is None else owners & by_crm
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

    async def bill_to_contact(self, account_id: str) -> Contact | None:
        step = "reading the bill-to contact"
        accounts = await self._query(
            f"select Id, BillToId from Account where Id = {zoql_text(account_id)}", step
        )
        if not accounts:
            return None
        owner = accounts[0].get("BillToId")
        where = f"Id = {zoql_text(owner)}" if owner else f"AccountId = {zoql_text(account_id)}"
        records = await self._query(f"select {CONTACT_FIELDS} from Contact where {where}", step)
        return from_zuora_contact(records[0].get) if records else None

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

    async def create_sepa(self, account_id: str, method: NewSepaMethod, key: str) -> str | None:
        # Only what Zuora's SEPA request model has: its `mandateInfo` takes the mandate id (its
        # status and reason are the payment gateway's to report). The signature date and the
        # "received" flag have no REST field for SEPA (ACH's model has them, SEPA's does not: a
        # tenant would drop them silently); the fulfilment step's inputs keep the date.
        holder = {"accountHolderName": method.holder, "country": method.iban[:2]}
        if method.email:
            holder["email"] = method.email
        body: dict[str, Any] = {
            "accountKey": account_id,
            "type": "SEPA",
            "IBAN": method.iban,
            "accountHolderInfo": holder,
            "mandateInfo": {"mandateId": method.mandate_id},
            "makeDefault": False,  # switched as its own step, after the method exists
        }
        if method.bic:
            body["businessIdentificationCode"] = method.bic
        answer = await self._rest.request(
            "POST",
            "/v1/payment-methods",
            "creating the SEPA payment method",
            json=body,
            idempotency_key=derived_key(key, "create-payment-method"),
        )
        made = answer.get("id") if isinstance(answer, dict) else None
        return str(made) if made else None

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
        """Payments whose debit is with the bank (`gatewayState` Submitted, whatever their
        status), then the account's payment runs still Pending or Processing that have made
        no such payment yet (a Processing run's debits are its submitted payments)."""
        submitted = [
            payment
            for payment in await self._pages("/v1/payments", "payments", {"accountId": account.id})
            if payment.get("gatewayState") == SUBMITTED
        ]
        runs = await self._runs_in_flight(account)
        if not submitted and not runs:
            return []
        masks = {method.id: method.masked for method in await self._methods(account.id)}
        found = [
            Collection(
                id=str(payment["id"]),
                amount=Money(to_minor_units(payment["amount"], account.currency), account.currency),
                status=SUBMITTED,
                payment_method_id=payment.get("paymentMethodId"),
                effective_on=rest_date(payment.get("effectiveDate")),
                method_masked=masks.get(str(payment.get("paymentMethodId"))),
            )
            for payment in submitted
        ]
        for run in runs:
            if run.get("status") == "Processing" and submitted:
                continue  # already listed, as the payments it submitted
            found.append(await self._run_collection(run, account, masks))
        return found

    async def _runs_in_flight(self, account: Account) -> list[dict[str, Any]]:
        """The account's own payment runs (`accountId`) that are Pending or Processing. A run
        over many accounts (by batch or billing day) names none; its debits show once it has
        submitted them, as payments."""
        runs: list[dict[str, Any]] = []
        for status in RUNS_IN_FLIGHT:
            runs += [
                run
                for run in await self._pages("/v1/payment-runs", "paymentRuns", {"status": status})
                if run.get("accountId") == account.id
            ]
        return runs

    async def _run_collection(
        self, run: dict[str, Any], account: Account, masks: dict[str, str | None]
    ) -> Collection:
        """A run that has not submitted its debit yet: it will collect the account's open
        balance from its default method on its target date."""
        answer = await self._rest.request(
            "GET", f"/v1/accounts/{account.id}", "reading what the payment run will collect"
        )
        metrics = answer.get("metrics") or {}
        balance = metrics.get("totalInvoiceBalance", metrics.get("balance")) or 0
        method = account.default_payment_method_id
        return Collection(
            id=str(run.get("number") or run["id"]),
            amount=Money(to_minor_units(balance, account.currency), account.currency),
            status=f"payment run {run.get('status')}",
            payment_method_id=method,
            effective_on=rest_date(run.get("targetDate")),
            method_masked=masks.get(str(method)),
        )

    async def _pages(self, path: str, key: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a paged list (`page`, `pageSize`, `nextPage` while more remain)."""
        step = "looking for collections in flight"
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = await self._rest.request(
                "GET", path, step, params={**params, "page": page, "pageSize": PAGE_SIZE}
            )
            items += answer.get(key) or []
            if not answer.get("nextPage"):
                return items
            page += 1

    # -- subscriptions -------------------------------------------------------------------------

    async def active_subscription(self, account: Account) -> Subscription | None:
        page = 1
        while True:  # Zuora lists an account's subscriptions in pages
            answer = await self._rest.request(
                "GET",
                f"/v1/subscriptions/accounts/{account.id}",
                "reading the active subscription",
                params={"page": page, "pageSize": PAGE_SIZE},
            )
            subscriptions = answer.get("subscriptions") or []
            active = [s for s in subscriptions if s.get("status") == "Active"]
            if active:
                return from_rest_subscription(active[0])
            if not answer.get("nextPage"):
                return None
            page += 1

    async def subscription(self, number: str) -> Subscription:
        answer = await self._rest.request(
            "GET", f"/v1/subscriptions/{number}", "reading the subscription"
        )
        return from_rest_subscription(answer)

    async def _order(
        self, subscription: Subscription, action: dict[str, Any], effective: date
    ) -> dict[str, Any]:
        """The body both `/v1/orders` and its preview take; placing adds processing options,
        which Zuora's preview request does not have."""
        account = await self.find_account(AccountLookup(id=subscription.account_id))
        if account is None:
            raise from_zuora_error("INVALID_ID", "looking up the subscription's account")
        return {
            "orderDate": effective.isoformat(),
            "existingAccountNumber": account.number,
            "subscriptions": [{"subscriptionNumber": subscription.id, "orderActions": [action]}],
        }

    async def _subscription_json(self, number: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self._rest.request(
            "GET", f"/v1/subscriptions/{number}", "reading the subscription's charges"
        )
        return answer

    @staticmethod
    def _rate_plan_of(answer: dict[str, Any], subscription_number: str, charge_number: str) -> str:
        """The id of the subscription's rate plan that holds the charge: an UpdateProduct
        order action names the rate plan it updates."""
        for plan in answer.get("ratePlans") or []:
            numbers = {charge.get("number") for charge in plan.get("ratePlanCharges") or []}
            if charge_number in numbers:
                return str(plan["id"])
        raise BillingError(
            ErrorCode.PROVIDER_NOT_FOUND,
            f"The subscription {subscription_number} has no recurring charge {charge_number}.",
        )

    @staticmethod
    def _priced(answer: dict[str, Any]) -> list[PricedCharge]:
        """The recurring charges with their model and tiers (`price` is null on a tiered
        charge: its tiers price it)."""
        return [
            priced(
                str(charge["number"]),
                charge.get("quantity"),
                charge.get("billingPeriod"),
                partial(rest_pricing, charge),
                charge.get("mrr"),
            )
            for plan in answer.get("ratePlans") or []
            for charge in plan.get("ratePlanCharges") or []
            if charge.get("type", "Recurring") == "Recurring"
        ]

    async def _update_product(
        self, change: QuantityChange, answer: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        when = change.effective_on.isoformat()
        if answer is None:
            answer = await self._subscription_json(change.subscription_id)
        rate_plan = self._rate_plan_of(answer, change.subscription_id, change.charge_id)
        return {
            "type": "UpdateProduct",
            "triggerDates": [
                {"name": name, "triggerDate": when}
                for name in ("ContractEffective", "ServiceActivation", "CustomerAcceptance")
            ],
            "updateProduct": {
                "ratePlanId": rate_plan,
                "chargeUpdates": [
                    {
                        "chargeNumber": change.charge_id,
                        "pricing": {"recurringPerUnit": {"quantity": change.quantity}},
                    }
                ],
            },
        }

    async def preview_update(
        self, subscription: Subscription, change: QuantityChange
    ) -> QuantityChangePreview:
        current = await self._subscription_json(change.subscription_id)
        action = await self._update_product(change, current)
        body = await self._order(subscription, action, change.effective_on)
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
        charges = self._priced(current)
        return QuantityChangePreview(
            effective_on=change.effective_on,
            next_invoice=Money(
                to_minor_units(invoices[0]["amount"], currency) if invoices else 0, currency
            ),
            recurring_before=Money(
                monthly_minor(charges, change.charge_id, None, currency), currency
            ),
            recurring_after=Money(
                monthly_minor(charges, change.charge_id, change.quantity, currency), currency
            ),
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
        action = await self._update_product(change)
        body = await self._order(subscription, action, change.effective_on)
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
            json={
                **body,
                "orderNumber": marker,
                "processingOptions": {"runBilling": False, "collectPayment": False},
            },
            idempotency_key=derived_key(key, "order"),
        )

    # -- refunds and invoices ------------------------------------------------------------------

    async def refund_by_marker(self, payment_id: str, marker: str) -> RefundResult | None:
        records = await self._query(
            "select Id, Amount, Status, AccountId from Refund"
            f" where PaymentId = {zoql_text(payment_id)}"
            f" and Comment = {zoql_text(refund_comment(marker))}",
            "looking for an earlier refund",
        )
        if not records:
            return None
        account = await self.find_account(AccountLookup(id=str(records[0]["AccountId"])))
        currency = account.currency if account else "EUR"
        record = records[0]
        return RefundResult(
            str(record["Id"]),
            Money(to_minor_units(record["Amount"], currency), currency),
            str(record["Status"]),
        )

    async def refund(self, payment_id: str, amount: Money, marker: str, key: str) -> None:
        await self._rest.request(
            "POST",
            f"/v1/payments/{payment_id}/refunds",
            "refunding the payment",
            json={
                "type": "Electronic",
                # The exact decimal, sent as a JSON number (never a float: see rest_session).
                "totalAmount": from_minor_units(amount.amount_minor, amount.currency),
                # `referenceId` is the gateway's transaction id (Zuora's payment gateway's, not
                # ours); the comment is the refund's field for the client's own words.
                "comment": refund_comment(marker),
            },
            idempotency_key=derived_key(key, "refund"),
        )

    async def create_external_payment(
        self, payment: NewOfflinePayment, method_id: str, key: str
    ) -> None:
        currency = payment.amount.currency
        amount = from_minor_units(payment.amount.amount_minor, currency)
        body: dict[str, Any] = {
            "accountId": payment.account_id,
            "type": "External",
            "paymentMethodId": method_id,
            "number": payment.payment_number,
            "referenceId": payment.reference,
            "amount": amount,
            "currency": currency,
            "effectiveDate": payment.effective_on.isoformat(),
            "comment": payment.description,
        }
        if payment.invoice_id:
            body["invoices"] = [{"invoiceId": payment.invoice_id, "amount": amount}]
        await self._rest.request(
            "POST",
            "/v1/payments",
            "recording the cheque",
            json=body,
            idempotency_key=derived_key(key, "external-payment"),
        )

    async def cancel_payment(self, payment_id: str, key: str) -> None:
        await self._rest.request(
            "PUT", f"/v1/payments/{payment_id}/cancel", "cancelling the cheque's payment"
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
