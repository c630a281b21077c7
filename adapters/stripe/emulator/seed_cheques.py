"""The cheques demo's customers (issue 17), the same three as in the Zuora emulator, under fixed
ids so that tests, the README and the back office can name them: `cus_cheque_eur`,
`cus_cheque_usd` and `cus_cheque_gbp`, each billed in its currency with three open invoices
(120.00, 49.00 and 1200.00) that a mailed cheque pays, in part or in full. Their invoices get
the emulator's ids (read them through the invoice list).
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.stripe.emulator.customers import Customers
from adapters.stripe.emulator.invoicing import create_invoice
from adapters.stripe.emulator.state import StripeAccount

INVOICE_AMOUNTS_MINOR = (12000, 4900, 120000)


@dataclass(frozen=True)
class ChequeCustomer:
    id: str
    name: str
    email: str
    backoffice_id: str
    currency: str  # Stripe's lower case


CHEQUE_CUSTOMERS = (
    ChequeCustomer(
        "cus_cheque_eur",
        "Cheque Customer EUR SARL",
        "billing@cheque-eur.example",
        "BO-CHEQUE-EUR",
        "eur",
    ),
    ChequeCustomer(
        "cus_cheque_usd",
        "Cheque Customer USD Inc",
        "billing@cheque-usd.example",
        "BO-CHEQUE-USD",
        "usd",
    ),
    ChequeCustomer(
        "cus_cheque_gbp",
        "Cheque Customer GBP Ltd",
        "billing@cheque-gbp.example",
        "BO-CHEQUE-GBP",
        "gbp",
    ),
)


def add_cheque_customer(account: StripeAccount, customer: ChequeCustomer) -> None:
    created = Customers(account).create_customer(
        {
            "name": customer.name,
            "email": customer.email,
            "metadata": {"backoffice_id": customer.backoffice_id},
        },
        customer.id,
    )
    created["currency"] = customer.currency
    for amount in INVOICE_AMOUNTS_MINOR:
        line = {"description": "Subscription", "amount": amount, "quantity": 1, "proration": False}
        create_invoice(account, customer.id, None, [line], "open", customer.currency)


def seed_cheques(account: StripeAccount) -> None:
    for customer in CHEQUE_CUSTOMERS:
        add_cheque_customer(account, customer)
