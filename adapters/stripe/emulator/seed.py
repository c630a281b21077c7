"""Customers for the Stripe emulator: what `make run` shows in sandbox, under the references
the gateway's demo requests use (gateway/demo.py)."""

from __future__ import annotations

from adapters.stripe.emulator.connect import Connect
from adapters.stripe.emulator.customers import Customers
from adapters.stripe.emulator.state import StripeAccount

# customer id, company, back-office id, current IBAN (published test numbers)
DEMO_CUSTOMERS = (
    ("cus_DemoAtelier01", "Atelier Lumière SARL", "shop-101", "FR1420041010050500013M02606"),
    ("cus_DemoBrasserie2", "Brasserie du Port SAS", "shop-102", "DE89370400440532013000"),
)


def add_customer(
    account: StripeAccount, customer_id: str | None, name: str, backoffice_id: str, iban: str
) -> str:
    """A customer paying by SEPA debit (its invoice default); returns the customer's id."""
    customers = Customers(account)
    email = f"billing@{backoffice_id}.example"
    created = customers.create_customer(
        {"name": name, "email": email, "metadata": {"backoffice_id": backoffice_id}}, customer_id
    )
    method = customers.create_payment_method(
        {
            "type": "sepa_debit",
            "sepa_debit": {"iban": iban},
            "billing_details": {"name": name, "email": email},
        }
    )
    customers.attach(method["id"], created["id"])
    customers.update_customer(
        created["id"], {"invoice_settings": {"default_payment_method": method["id"]}}
    )
    return str(created["id"])


def add_partner(account: StripeAccount) -> str:
    """The demo's Connect partner: a company whose shop trades under another name."""
    connect = Connect(account)
    partner = connect.create_account(
        "Brasserie du Port SAS",
        "Le Petit Port",
        {"backoffice_id": "shop-102"},
        "acct_DemoBrasserie",
    )
    bank = connect.add_bank(
        partner["id"],
        {
            "external_account": {
                "object": "bank_account",
                "account_number": "FR1420041010050500013M02606",
                "currency": "eur",
                "account_holder_name": "Brasserie du Port SAS",
            }
        },
    )
    connect.create_payout(partner["id"], 184_250, bank["id"])["status"] = "paid"
    return str(partner["id"])


def seed_demo(account: StripeAccount) -> None:
    for customer_id, name, backoffice_id, iban in DEMO_CUSTOMERS:
        add_customer(account, customer_id, name, backoffice_id, iban)
    add_partner(account)
