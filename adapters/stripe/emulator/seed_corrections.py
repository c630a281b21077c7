"""The corrections demo's customers (issue 15), the same six as in the Zuora emulator, under fixed
ids so that tests, the README and curl can name them; their invoices and payments get the
emulator's ids (read them through the invoice and payment lists):

- `cus_wrong_plan_card`: a monthly subscription (EUR 49.00) paid by card (****4242), nothing
  refunded yet: cancel and refund the payment;
- `cus_wrong_plan_invoiced`: a subscription whose invoice (EUR 120.00) is open: cancel and void;
- `cus_prepaid_package`: a 12-month package paid up front by SEPA debit (EUR 1200.00), started
  91 days ago, marked `prepaid=true` in the subscription's metadata: cancel and refund the rest
  minus the fee;
- `cus_big_refund`: EUR 2500.00 paid by SEPA debit, above the demo's approval threshold;
- `cus_yen`: JPY 15000 by card; `cus_dinar`: KWD 12.340 (12340 minor units) by card: not
  the Zuora dinar's 12.345, which Stripe refuses (it takes dinars in steps of 0.010).
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.stripe.emulator.billing import Billing
from adapters.stripe.emulator.customers import Customers
from adapters.stripe.emulator.state import StripeAccount

SEPA_DETAILS = {"type": "sepa_debit", "sepa_debit": {"country": "DE", "last4": "3000"}}
SEPA_IBAN = "DE89370400440532013000"  # a published test number


@dataclass(frozen=True)
class CorrectionCustomer:
    id: str
    name: str
    email: str
    backoffice_id: str
    currency: str
    amount_minor: int
    invoice_status: str = "paid"  # or "open": posted, not paid
    by_card: bool = True
    yearly_prepaid: bool = False


CORRECTION_CUSTOMERS = (
    CorrectionCustomer(
        "cus_wrong_plan_card",
        "Wrong Plan Card SARL",
        "billing@wrongplan-card.example",
        "BO-WRONG-CARD",
        "eur",
        4900,
    ),
    CorrectionCustomer(
        "cus_wrong_plan_invoiced",
        "Wrong Plan Invoiced GmbH",
        "billing@wrongplan-invoiced.example",
        "BO-WRONG-INVOICED",
        "eur",
        12000,
        invoice_status="open",
        by_card=False,
    ),
    CorrectionCustomer(
        "cus_prepaid_package",
        "Prepaid Package SAS",
        "billing@prepaid-package.example",
        "BO-PREPAID",
        "eur",
        120000,
        by_card=False,
        yearly_prepaid=True,
    ),
    CorrectionCustomer(
        "cus_big_refund",
        "Big Refund Ltd",
        "billing@big-refund.example",
        "BO-BIG-REFUND",
        "eur",
        250000,
        by_card=False,
    ),
    CorrectionCustomer(
        "cus_yen", "Yen Customer KK", "billing@yen-customer.example", "BO-YEN", "jpy", 15000
    ),
    CorrectionCustomer(
        "cus_dinar",
        "Dinar Customer WLL",
        "billing@dinar-customer.example",
        "BO-DINAR",
        "kwd",
        12340,
    ),
)
PREPAID_STARTED_DAYS_AGO = 91


def _card(account: StripeAccount, customer: CorrectionCustomer) -> str:
    """A card as Stripe shows it (the emulator takes no card numbers over its API)."""
    method = account.new(
        "pm",
        "payment_method",
        {
            "type": "card",
            "card": {
                "brand": "visa",
                "last4": "4242",
                "country": "US",
                "exp_month": 12,
                "exp_year": 2030,
                "fingerprint": account.fingerprint(f"card:{customer.id}"),
            },
            "billing_details": {"name": customer.name, "email": customer.email},
            "customer": customer.id,
            "metadata": {},
        },
    )
    return str(method["id"])


def _sepa(account: StripeAccount, customer: CorrectionCustomer) -> str:
    customers = Customers(account)
    method = customers.create_payment_method(
        {
            "type": "sepa_debit",
            "sepa_debit": {"iban": SEPA_IBAN},
            "billing_details": {"name": customer.name, "email": customer.email},
        }
    )
    customers.attach(method["id"], customer.id)
    return str(method["id"])


def add_correction_customer(account: StripeAccount, customer: CorrectionCustomer) -> None:
    created = Customers(account).create_customer(
        {
            "name": customer.name,
            "email": customer.email,
            "metadata": {"backoffice_id": customer.backoffice_id},
        },
        customer.id,
    )
    created["currency"] = customer.currency
    method_id = _card(account, customer) if customer.by_card else _sepa(account, customer)
    created["invoice_settings"]["default_payment_method"] = method_id
    billing = Billing(account)
    suffix = customer.id.removeprefix("cus_")
    price = billing.create_price(
        "Package, 12 months" if customer.yearly_prepaid else "Subscription",
        customer.amount_minor,
        customer.currency,
        nickname="Prepaid package, yearly" if customer.yearly_prepaid else "Plan, monthly",
        price_id=f"price_{suffix}",
        interval="year" if customer.yearly_prepaid else "month",
    )
    subscription = billing.create_subscription(
        customer.id,
        price["id"],
        1,
        f"sub_{suffix}",
        f"si_{suffix}",
        started_days_ago=PREPAID_STARTED_DAYS_AGO if customer.yearly_prepaid else None,
        metadata={"prepaid": "true"} if customer.yearly_prepaid else None,
    )
    billing.pay_invoice_now(
        subscription["id"],
        customer.invoice_status,
        None if customer.by_card else SEPA_DETAILS,
    )


def seed_corrections(account: StripeAccount) -> None:
    for customer in CORRECTION_CUSTOMERS:
        add_correction_customer(account, customer)
