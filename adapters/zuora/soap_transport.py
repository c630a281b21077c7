"""ZuoraTransport over the SOAP API: ZOQL queries (paged with queryMore), create/update of
zObjects, and `amend` for subscription changes, with preview.

SOAP has no idempotency keys: a write that is not safe to repeat carries a marker (the mandate
id, the amendment's Name, the refund's Comment) that the adapter looks up before repeating.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
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
    ACCOUNT_FIELDS,
    CHARGE_FIELDS,
    CONTACT_FIELDS,
    PAYMENT_FIELDS,
    PAYMENT_METHOD_FIELDS,
    REFUND_FIELDS,
    SUBMITTED,
    SUBSCRIPTION_FIELDS,
    TIER_FIELDS,
    from_zuora_account,
    from_zuora_charge,
    from_zuora_contact,
    from_zuora_payment,
    from_zuora_payment_method,
    from_zuora_refund,
    refund_comment,
    zoql_text,
)
from adapters.zuora.pricing import (
    ChargePricing,
    PricedCharge,
    monthly_minor,
    priced,
    soap_pricing,
)
from adapters.zuora.soap_session import ZuoraSoap
from adapters.zuora.terms import soap_term, with_term
from adapters.zuora.transport import TransportName
from gateway.core.errors import BillingError


class SoapTransport:
    name: TransportName = "soap"

    def __init__(self, soap: ZuoraSoap) -> None:
        self._soap = soap
        self.calls = soap.calls

    async def close(self) -> None:
        await self._soap.close()

    # -- accounts and payment methods ----------------------------------------------------------

    async def find_account(self, lookup: AccountLookup) -> Account | None:
        conditions = [
            f"{name} = {zoql_text(value)}"
            for name, value in (
                ("Id", lookup.id),
                ("AccountNumber", lookup.number),
                ("Name", lookup.company_name),
                ("CrmId", lookup.backoffice_id),  # where the back-office id is kept
            )
            if value
        ]
        if lookup.email:
            # An account's email is its bill-to contact's: find the account through it.
            owner = await self._account_id_of_email(lookup.email)
            if owner is None:
                return None
            conditions.append(f"Id = {zoql_text(owner)}")
        if not conditions:
            return None
        records = await self._query(
            f"select {ACCOUNT_FIELDS} from Account where {' and '.join(conditions)}",
            "looking up the account",
        )
        return from_zuora_account(records[0]) if len(records) == 1 else None

    async def _account_id_of_email(self, email: str) -> str | None:
        owners = {
            str(record.AccountId)
            for field in ("WorkEmail", "PersonalEmail")
            for record in await self._query(
                f"select AccountId from Contact where {field} = {zoql_text(email)}",
                "looking up the account by email",
            )
        }
        return owners.pop() if len(owners) == 1 else None

    async def payment_methods(self, account: Account) -> Sequence[PaymentMethod]:
        records = await self._query(
            f"select {PAYMENT_METHOD_FIELDS} from PaymentMethod"
            f" where AccountId = {zoql_text(account.id)}",
            "listing payment methods",
        )
        return [
            from_zuora_payment_method(record, account.default_payment_method_id)
            for record in records
        ]

    async def bill_to_contact(self, account_id: str) -> Contact | None:
        step = "reading the bill-to contact"
        # The account's contacts and which one is bill-to, asked at once (one wait, not two).
        accounts, contacts = await asyncio.gather(
            self._query(
                f"select Id, BillToId from Account where Id = {zoql_text(account_id)}", step
            ),
            self._query(
                f"select {CONTACT_FIELDS} from Contact where AccountId = {zoql_text(account_id)}",
                step,
            ),
        )
        if not accounts:
            return None
        owner = getattr(accounts[0], "BillToId", None)
        records = [c for c in contacts if str(c.Id) == owner] if owner else list(contacts)
        if owner and not records:  # a bill-to contact the account's list does not hold
            records = await self._query(
                f"select {CONTACT_FIELDS} from Contact where Id = {zoql_text(owner)}", step
            )
        if not records:
            return None
        record = records[0]
        return from_zuora_contact(lambda name: getattr(record, name, None))

    async def payment_method_by_mandate(
        self, account_id: str, mandate_id: str
    ) -> PaymentMethod | None:
        records = await self._query(
            f"select {PAYMENT_METHOD_FIELDS} from PaymentMethod"
            f" where AccountId = {zoql_text(account_id)} and MandateID = {zoql_text(mandate_id)}",
            "looking for an earlier attempt",
        )
        if not records:
            return None
        # A PaymentMethod does not say whether it is the default; its account does.
        account = await self.find_account(AccountLookup(id=account_id))
        default = account.default_payment_method_id if account else None
        return from_zuora_payment_method(records[0], default)

    async def create_sepa(self, account_id: str, method: NewSepaMethod, key: str) -> str | None:
        step = "creating the SEPA payment method"
        sepa = self._soap.make(
            "PaymentMethod",
            AccountId=account_id,
            Type="BankTransfer",
            BankTransferType="SEPA",
            IBAN=method.iban,
            BankTransferAccountName=method.holder,
            Email=method.email,
            BusinessIdentificationCode=method.bic,
            Country=method.iban[:2],
            MandateID=method.mandate_id,
            MandateReceived="Yes",
            MandateCreationDate=method.mandate_signed_on,
            ExistingMandate="No",
        )
        return await self._saved(
            await self._soap.call("create", step, repeatable=False, zObjects=[sepa]), step
        )

    async def set_default(self, account_id: str, payment_method_id: str, key: str) -> None:
        step = "making the new payment method the account's default"
        change = self._soap.make("Account", Id=account_id, DefaultPaymentMethodId=payment_method_id)
        await self._saved(await self._soap.call("update", step, zObjects=[change]), step)

    async def close_payment_method(self, payment_method_id: str, key: str) -> None:
        step = "closing the old payment method"
        closed = self._soap.make(
            "PaymentMethod", Id=payment_method_id, PaymentMethodStatus="Closed"
        )
        await self._saved(await self._soap.call("update", step, zObjects=[closed]), step)

    async def payments_in_flight(self, account: Account) -> Sequence[Collection]:
        """Payments whose debit the gateway has sent to the bank (GatewayState Submitted).
        SOAP has no PaymentRun object: a payment run shows here once it has made its payments
        (each names its run as Source/SourceName); a run still Pending is seen over REST only."""
        records = await self._query(
            f"select {PAYMENT_FIELDS} from Payment where AccountId = {zoql_text(account.id)}"
            f" and GatewayState = {zoql_text(SUBMITTED)}",
            "looking for collections in flight",
        )
        if not records:
            return []
        masks = {method.id: method.masked for method in await self.payment_methods(account)}
        return [
            from_zuora_payment(record, account.currency, masks.get(str(record.PaymentMethodId)))
            for record in records
        ]

    # -- subscriptions -------------------------------------------------------------------------

    async def active_subscription(self, account: Account) -> Subscription | None:
        records = await self._query(
            f"select {SUBSCRIPTION_FIELDS} from Subscription"
            f" where AccountId = {zoql_text(account.id)} and Status = 'Active'",
            "reading the active subscription",
        )
        if not records:
            return None
        return await self._with_charges(records[0], account.currency)

    async def subscription(self, number: str) -> Subscription:
        version = await self._latest_version(number)
        account = await self._account_currency(str(version.AccountId))
        return await self._with_charges(version, account)

    async def preview_update(
        self, subscription: Subscription, change: QuantityChange
    ) -> QuantityChangePreview:
        step = "previewing the quantity change"
        version = await self._latest_version(subscription.id)
        charges = await self._charges(str(version.Id))
        amendment = self._update_product(version, charges, change, name=None)
        [result] = await self._soap.call(
            "amend",
            step,
            requests=[
                {
                    "Amendments": [amendment],
                    "AmendOptions": {"GenerateInvoice": False, "ProcessPayments": False},
                    "PreviewOptions": {
                        "EnablePreviewMode": True,
                        "NumberOfPeriods": 1,
                        "PreviewType": "InvoiceItem",
                    },
                }
            ],
        )
        self._succeeded(result, step)
        currency = subscription.charges[0].unit_price.currency
        # Before and after from each charge's model and tiers (a tiered charge has no Price);
        # the next invoice is Zuora's own preview.
        priced_charges = await self._priced(charges)
        invoices = result.InvoiceDatas or []
        next_invoice = to_minor_units(invoices[0].Invoice.Amount, currency) if invoices else 0
        return QuantityChangePreview(
            effective_on=change.effective_on,
            next_invoice=Money(next_invoice, currency),
            recurring_before=Money(
                monthly_minor(priced_charges, change.charge_id, None, currency), currency
            ),
            recurring_after=Money(
                monthly_minor(priced_charges, change.charge_id, change.quantity, currency),
                currency,
            ),
        )

    async def change_made(self, marker: str) -> bool:
        records = await self._query(
            f"select Id from Amendment where Name = {zoql_text(marker)}",
            "looking for an earlier amendment",
        )
        return bool(records)

    async def update_product(
        self, subscription: Subscription, change: QuantityChange, marker: str, key: str
    ) -> None:
        version = await self._latest_version(subscription.id)
        charges = await self._charges(str(version.Id))
        amendment = self._update_product(version, charges, change, name=marker)
        await self._amend(amendment, "applying the quantity change")

    async def cancel(
        self, subscription: Subscription, effective_on: date, marker: str, key: str
    ) -> None:
        version = await self._latest_version(subscription.id)
        amendment = self._soap.make(
            "Amendment",
            Name=marker,
            Type="Cancellation",
            Status="Completed",
            SubscriptionId=version.Id,
            ContractEffectiveDate=effective_on,
            EffectiveDate=effective_on,
        )
        await self._amend(amendment, "cancelling the subscription")

    # -- refunds and invoices ------------------------------------------------------------------

    async def refund_by_marker(self, payment_id: str, marker: str) -> RefundResult | None:
        records = await self._query(
            f"select {REFUND_FIELDS} from Refund where PaymentId = {zoql_text(payment_id)}"
            f" and Comment = {zoql_text(refund_comment(marker))}",
            "looking for an earlier refund",
        )
        if not records:
            return None
        account = await self._account_currency(str(records[0].AccountId))
        return from_zuora_refund(records[0], account)

    async def refund(self, payment_id: str, amount: Money, marker: str, key: str) -> None:
        step = "refunding the payment"
        refund = self._soap.make(
            "Refund",
            PaymentId=payment_id,
            Amount=from_minor_units(amount.amount_minor, amount.currency),
            Type="Electronic",
            # ReferenceID is the payment gateway's transaction id; the comment is ours.
            Comment=refund_comment(marker),
        )
        await self._saved(
            await self._soap.call("create", step, repeatable=False, zObjects=[refund]), step
        )

    async def create_external_payment(
        self, payment: NewOfflinePayment, method_id: str, key: str
    ) -> None:
        step = "recording the cheque"
        currency = payment.amount.currency
        amount = from_minor_units(payment.amount.amount_minor, currency)
        nothing = from_minor_units(0, currency)
        made = self._soap.make(
            "Payment",
            AccountId=payment.account_id,
            Amount=amount,
            # Applied to the invoice, or (with none) kept as the account's credit balance.
            AppliedInvoiceAmount=amount if payment.invoice_id else nothing,
            AppliedCreditBalanceAmount=nothing if payment.invoice_id else amount,
            InvoiceId=payment.invoice_id,
            Comment=payment.description,
            EffectiveDate=payment.effective_on,
            PaymentMethodId=method_id,
            PaymentNumber=payment.payment_number,
            ReferenceId=payment.reference,
            Status="Processed",
            Type="External",
        )
        await self._saved(
            await self._soap.call("create", step, repeatable=False, zObjects=[made]), step
        )

    async def cancel_payment(self, payment_id: str, key: str) -> None:
        step = "cancelling the cheque's payment"
        canceled = self._soap.make("Payment", Id=payment_id, Status="Canceled")
        await self._saved(await self._soap.call("update", step, zObjects=[canceled]), step)

    async def invoice_pdf(self, invoice_id: str) -> bytes:
        # Zuora returns an invoice's PDF, base64, when Body is queried for one invoice at a time.
        records = await self._query(
            f"select Body from Invoice where Id = {zoql_text(invoice_id)}",
            "reading the invoice PDF",
        )
        if not records or not records[0].Body:
            raise from_zuora_error("INVALID_ID", "reading the invoice PDF")
        return base64.b64decode(records[0].Body)

    # -- helpers -------------------------------------------------------------------------------

    async def _latest_version(self, number: str) -> Any:
        records = await self._query(
            f"select {SUBSCRIPTION_FIELDS} from Subscription where Name = {zoql_text(number)}"
            " and Status != 'Expired'",
            "reading the subscription",
        )
        if not records:
            raise from_zuora_error("INVALID_ID", "reading the subscription")
        return records[0]

    async def _account_currency(self, account_id: str) -> str:
        account = await self.find_account(AccountLookup(id=account_id))
        if account is None:
            raise from_zuora_error("INVALID_ID", "looking up the account")
        return account.currency

    async def _charges(self, version_id: str) -> list[Any]:
        plans = await self._query(
            f"select Id from RatePlan where SubscriptionId = {zoql_text(version_id)}",
            "reading the subscription's rate plans",
        )
        charges: list[Any] = []
        for plan in plans:
            charges += await self._query(
                f"select {CHARGE_FIELDS} from RatePlanCharge"
                f" where RatePlanId = {zoql_text(plan.Id)}"
                " and IsLastSegment = true and ChargeType = 'Recurring'",
                "reading the subscription's charges",
            )
        return charges

    async def _tiers(self, charges: list[Any]) -> dict[str, list[Any]]:
        """RatePlanChargeTier records of the charges priced by tiers, by charge id (a charge
        priced per unit has none, and is not asked for)."""
        tiered = [
            str(charge.Id)
            for charge in charges
            if str(getattr(charge, "ChargeModel", None) or "").startswith(("Volume", "Tiered"))
        ]
        found: dict[str, list[Any]] = {charge_id: [] for charge_id in tiered}
        if not tiered:
            return found
        ids = " or ".join(f"RatePlanChargeId = {zoql_text(charge_id)}" for charge_id in tiered)
        for tier in await self._query(
            f"select {TIER_FIELDS} from RatePlanChargeTier where {ids}",
            "reading the charge's price tiers",
        ):
            found.setdefault(str(tier.RatePlanChargeId), []).append(tier)
        return found

    async def _priced(self, charges: list[Any]) -> list[PricedCharge]:
        tiers = await self._tiers(charges)
        return [
            priced(
                str(charge.ChargeNumber),
                charge.Quantity,
                charge.BillingPeriod,
                partial(soap_pricing, charge, tiers.get(str(charge.Id), [])),
                getattr(charge, "MRR", None),
            )
            for charge in charges
        ]

    async def _with_charges(self, version: Any, currency: str) -> Subscription:
        charges = await self._charges(str(version.Id))
        pricing = {p.number: p.pricing for p in await self._priced(charges)}

        def unit_price(charge: Any) -> Decimal | None:
            found = pricing.get(str(charge.ChargeNumber))
            if not (isinstance(found, ChargePricing) and found.tiered):
                return None
            try:
                return found.unit_price(Decimal(str(charge.Quantity or 0)))
            except BillingError:  # a quantity outside its tiers: shown, not priced
                return None

        subscription = Subscription(
            id=str(version.Name),
            account_id=str(version.AccountId),
            status=str(version.Status),
            version=int(version.Version),
            charges=tuple(
                from_zuora_charge(charge, currency, unit_price(charge)) for charge in charges
            ),
        )
        return with_term(subscription, soap_term(version, charges))

    def _update_product(
        self, version: Any, charges: list[Any], change: QuantityChange, *, name: str | None
    ) -> Any:
        """The UpdateProduct amendment of the latest `version`, whose `charges` are given."""
        charge = next((c for c in charges if c.ChargeNumber == change.charge_id), None)
        if charge is None:
            raise from_zuora_error("INVALID_VALUE", "finding the charge to change")
        effective = change.effective_on
        return self._soap.make(
            "Amendment",
            Name=name or f"Preview {change.charge_id}",
            Type="UpdateProduct",
            Status="Completed",
            SubscriptionId=version.Id,
            ContractEffectiveDate=effective,
            ServiceActivationDate=effective,
            CustomerAcceptanceDate=effective,
            EffectiveDate=effective,
            RatePlanData={
                "RatePlan": self._soap.make(
                    "RatePlan", AmendmentSubscriptionRatePlanId=charge.RatePlanId
                ),
                "RatePlanChargeData": [
                    {
                        "RatePlanCharge": self._soap.make(
                            "RatePlanCharge",
                            ProductRatePlanChargeId=charge.ProductRatePlanChargeId,
                            Quantity=change.quantity,
                        )
                    }
                ],
            },
        )

    async def _amend(self, amendment: Any, step: str) -> None:
        [result] = await self._soap.call(
            "amend",
            step,
            repeatable=False,
            requests=[
                {
                    "Amendments": [amendment],
                    "AmendOptions": {"GenerateInvoice": False, "ProcessPayments": False},
                }
            ],
        )
        self._succeeded(result, step)

    async def _query(self, zoql: str, step: str) -> list[Any]:
        result = await self._soap.call("query", step, queryString=zoql)
        records = list(result.records or [])
        while not result.done:
            result = await self._soap.call("queryMore", step, queryLocator=result.queryLocator)
            records += list(result.records or [])
        return records

    @staticmethod
    def _succeeded(result: Any, step: str) -> None:
        if not result.Success:
            raise from_zuora_error(str(result.Errors[0].Code), step)

    @classmethod
    async def _saved(cls, results: Any, step: str) -> str:
        [result] = results
        cls._succeeded(result, step)
        return str(result.Id)
