"""The customers of the billing-corrections demo (refund, cancel and refund, cancel and void, the
prepaid package, a refund that needs approval, money in JPY and KWD), seeded next to the demo
customers of `seed.py` under fixed account numbers, so that tests, the README and curl find them.

Each has a subscription, one invoice with its PDF and, when paid, a processed payment applied to
it. A card is kept as Zuora shows it (a mask), never as a number. Ids are the tenant's own;
numbers are fixed: account `A-WRONG-CARD`, subscription `A-S-WRONG-CARD`, invoice
`INV-WRONG-CARD`, payment `P-WRONG-CARD` (and the same with each suffix).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta

from adapters.zuora.emulator.amendments import _month_later
from adapters.zuora.emulator.documents import minimal_pdf
from adapters.zuora.emulator.pricing import PER_UNIT
from adapters.zuora.emulator.state import Tenant, new_id, now_text

TEST_CARD = "4242424242424242"  # Stripe's and most gateways' published test card
TEST_IBAN = "AT611904300234573201"  # a published test IBAN


@dataclass(frozen=True)
class CorrectionDemo:
    suffix: str  # account A-{suffix}, back-office id BO-{suffix}
    name: str
    email: str
    currency: str
    amount: str  # the invoice's total, in the currency's decimals
    paid: bool  # paid by a processed payment, else posted and open
    by_card: bool  # a card, else SEPA direct debit
    prepaid: bool = False  # a 12-month term billed in advance, paid up front


CORRECTION_DEMOS = (
    CorrectionDemo(
        "WRONG-CARD",
        "Wrong Plan Card SARL",
        "billing@wrongplan-card.example",
        "EUR",
        "49.00",
        paid=True,
        by_card=True,
    ),
    CorrectionDemo(
        "WRONG-INVOICED",
        "Wrong Plan Invoiced GmbH",
        "billing@wrongplan-invoiced.example",
        "EUR",
        "120.00",
        paid=False,
        by_card=False,
    ),
    CorrectionDemo(
        "PREPAID",
        "Prepaid Package SAS",
        "billing@prepaid-package.example",
        "EUR",
        "1200.00",
        paid=True,
        by_card=True,
        prepaid=True,
    ),
    CorrectionDemo(
        "BIG-REFUND",
        "Big Refund Ltd",
        "billing@big-refund.example",
        "EUR",
        "2500.00",
        paid=True,
        by_card=True,
    ),
    CorrectionDemo(
        "YEN", "Yen Customer KK", "billing@yen-customer.example", "JPY", "15000", True, True
    ),
    CorrectionDemo(
        "DINAR", "Dinar Customer WLL", "billing@dinar-customer.example", "KWD", "12.345", True, True
    ),
)


def _account(tenant: Tenant, demo: CorrectionDemo, today: date) -> tuple[str, str]:
    """The account, its bill-to contact and its default method: (account id, method id)."""
    account_id = tenant.create(
        "Account",
        {
            "AccountNumber": f"A-{demo.suffix}",
            "Name": demo.name,
            "Currency": demo.currency,
            "BillCycleDay": today.day if today.day <= 28 else 28,
            "Status": "Active",
            "CrmId": f"BO-{demo.suffix}",  # the back-office id, where Zuora keeps a CRM's
        },
    )
    contact_id = tenant.create(
        "Contact",
        {
            "AccountId": account_id,
            "FirstName": "Billing",
            "LastName": demo.name,
            "WorkEmail": demo.email,
        },
    )
    tenant.table("Account")[account_id].update(BillToId=contact_id, SoldToId=contact_id)
    if demo.by_card:
        method = {
            "Type": "CreditCard",
            "CreditCardNumber": TEST_CARD,
            "CreditCardType": "Visa",
            "CreditCardHolderName": demo.name,
            "CreditCardExpirationMonth": 12,
            "CreditCardExpirationYear": today.year + 3,
        }
    else:
        method = {
            "Type": "BankTransfer",
            "BankTransferType": "SEPA",
            "IBAN": TEST_IBAN,
            "BankTransferAccountName": demo.name,
            "MandateID": f"MANDATE-{demo.suffix}",
            "MandateReceived": "Yes",
        }
    method_id = tenant.create("PaymentMethod", {"AccountId": account_id, **method})
    tenant.update("Account", {"Id": account_id, "DefaultPaymentMethodId": method_id})
    return account_id, method_id


def _subscription(
    tenant: Tenant, demo: CorrectionDemo, account_id: str, today: date
) -> tuple[str, date, date]:
    """An active subscription: monthly and evergreen, or a 12-month term billed in advance.
    Returns its id and the period its invoice bills."""
    if demo.prepaid:
        start = today - timedelta(days=91)
        end = start + timedelta(days=365)
        term = {
            "TermType": "TERMED",
            "InitialTerm": 12,
            "InitialTermPeriodType": "Month",
            "CurrentTerm": 12,
            "CurrentTermPeriodType": "Month",
            "TermEndDate": end.isoformat(),
            "AutoRenew": False,
        }
        period, plan_name = "Annual", "Package, 12 months prepaid"
    else:
        start = today - timedelta(days=10)
        end = _month_later(start)
        term = {"TermType": "EVERGREEN"}
        period, plan_name = "Month", "Plan, monthly"
    subscription_id = new_id()
    tenant.table("Subscription")[subscription_id] = {
        "Id": subscription_id,
        "OriginalId": subscription_id,
        "AccountId": account_id,
        "Name": f"A-S-{demo.suffix}",
        "Status": "Active",
        "Version": 1,
        "TermStartDate": start.isoformat(),
        "ContractEffectiveDate": start.isoformat(),
        "SubscriptionStartDate": start.isoformat(),
        **term,
    }
    plan_id = tenant.create(
        "RatePlan",
        {"SubscriptionId": subscription_id, "Name": plan_name, "ProductRatePlanId": new_id()},
    )
    tenant.create(
        "RatePlanCharge",
        {
            "RatePlanId": plan_id,
            "Name": plan_name,
            "ChargeNumber": f"C-{demo.suffix}",
            "ChargeType": "Recurring",
            "ChargeModel": PER_UNIT,
            "BillingPeriod": period,
            "BillingTiming": "In Advance",
            "Price": demo.amount,
            "Quantity": "1",
            "ProductRatePlanChargeId": new_id(),
            "Segment": 1,
            "IsLastSegment": True,
            "EffectiveStartDate": start.isoformat(),
            "ProcessedThroughDate": start.isoformat(),
            "ChargedThroughDate": end.isoformat(),
        },
    )
    return subscription_id, start, end


def add_correction_demo(tenant: Tenant, demo: CorrectionDemo, today: date | None = None) -> str:
    """One demo customer; returns its account id."""
    today = today or date.today()
    account_id, method_id = _account(tenant, demo, today)
    subscription_id, start, end = _subscription(tenant, demo, account_id, today)
    number = f"INV-{demo.suffix}"
    pdf = minimal_pdf(
        f"Invoice {number}", demo.name, f"Total {demo.amount} {demo.currency}", f"Issued {start}"
    )
    invoice_id = tenant.create(
        "Invoice",
        {
            "AccountId": account_id,
            "InvoiceNumber": number,
            "Amount": demo.amount,
            "AmountWithoutTax": demo.amount,
            "TaxAmount": "0",
            "Balance": "0" if demo.paid else demo.amount,
            "PaymentAmount": demo.amount if demo.paid else "0",
            "RefundAmount": "0",
            "Status": "Posted",
            "InvoiceDate": start.isoformat(),
            "DueDate": (start + timedelta(days=14)).isoformat(),
            "PostedDate": now_text(),
            "Body": base64.b64encode(pdf).decode(),
        },
    )
    tenant.create(
        "InvoiceItem",
        {
            "InvoiceId": invoice_id,
            "SubscriptionId": subscription_id,
            "SubscriptionNumber": f"A-S-{demo.suffix}",
            "ChargeName": "Package" if demo.prepaid else "Plan",
            "ChargeAmount": demo.amount,
            "ServiceStartDate": start.isoformat(),
            "ServiceEndDate": (end - timedelta(days=1)).isoformat(),
        },
    )
    if demo.paid:
        payment_id = tenant.create(
            "Payment",
            {
                "AccountId": account_id,
                "Amount": demo.amount,
                "AppliedInvoiceAmount": demo.amount,
                "RefundAmount": "0",
                "Status": "Processed",
                "GatewayState": "Settled",
                "PaymentMethodId": method_id,
                "EffectiveDate": start.isoformat(),
                "CreatedDate": f"{start.isoformat()}T09:00:00+00:00",
                "Type": "Electronic",
                "PaymentNumber": f"P-{demo.suffix}",
            },
        )
        tenant.create(
            "InvoicePayment",
            {"InvoiceId": invoice_id, "PaymentId": payment_id, "Amount": demo.amount},
        )
    return account_id


def seed_corrections(tenant: Tenant, today: date | None = None) -> list[str]:
    """The six customers of the corrections demo (skipped when already there)."""
    numbers = {account.get("AccountNumber") for account in tenant.table("Account").values()}
    return [
        add_correction_demo(tenant, demo, today)
        for demo in CORRECTION_DEMOS
        if f"A-{demo.suffix}" not in numbers
    ]
