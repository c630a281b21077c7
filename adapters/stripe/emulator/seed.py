"""Customers for the Stripe emulator: what `make run` shows in sandbox, under the references
the gateway's demo requests use (gateway/demo.py).

- `cus_DemoAtelier01`: pays by SEPA debit, nothing in flight: an IBAN change applies end to end;
  a subscription of seats on the second tier (team).
- `cus_DemoBrasserie2`: one seat (solo), the demo upsell's customer; a SEPA debit in flight
  (PaymentIntent `processing`), so an IBAN change for it is refused with
  `collection_in_flight` until `DELETE /_emulator/debit-in-flight` settles it.
- `acct_DemoBrasserie`: the Connect partner, legal name "Brasserie du Port SAS", trading as
  "Le Petit Port".
- the corrections demo's six customers (`cus_wrong_plan_card`, ...): see `seed_corrections.py`.
- the cheques demo's three customers (`cus_cheque_eur`, `cus_cheque_usd`, `cus_cheque_gbp`),
  each with three open invoices: see `seed_cheques.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from adapters.stripe.emulator.billing import Billing
from adapters.stripe.emulator.connect import Connect
from adapters.stripe.emulator.customers import Customers
from adapters.stripe.emulator.seed_cheques import seed_cheques
from adapters.stripe.emulator.seed_corrections import seed_corrections
from adapters.stripe.emulator.state import StripeAccount

SEAT_PRICE_MINOR = 2900  # EUR a seat a month, as the Zuora demo's seat charge


@dataclass(frozen=True)
class DemoCustomer:
    id: str
    name: str
    backoffice_id: str
    iban: str  # published test numbers
    address: dict[str, str]
    tier_index: int  # which row of the tier table its seats fall in
    debit_in_flight_minor: int | None = None


BRASSERIE_ADDRESS = {
    "line1": "3 quai du Port",
    "city": "Marseille",
    "postal_code": "13002",
    "country": "FR",
}
DEMO_CUSTOMERS = (
    DemoCustomer(
        "cus_DemoAtelier01",
        "Atelier Lumière SARL",
        "shop-101",
        "FR1420041010050500013M02606",
        {"line1": "12 rue des Arts", "city": "Paris", "postal_code": "75003", "country": "FR"},
        tier_index=1,
    ),
    DemoCustomer(
        "cus_DemoBrasserie2",
        "Brasserie du Port SAS",
        "shop-102",
        "DE89370400440532013000",
        BRASSERIE_ADDRESS,
        tier_index=0,
        debit_in_flight_minor=SEAT_PRICE_MINOR,
    ),
)


class SeatTier(Protocol):
    """A row of the gateway's tier table (settings.PlanTier is one)."""

    @property
    def name(self) -> str: ...

    @property
    def min_seats(self) -> int: ...

    @property
    def max_seats(self) -> int: ...


@dataclass(frozen=True)
class Tier:
    name: str
    min_seats: int
    max_seats: int


# As settings.DEFAULT_PLAN_TIERS, for an emulator started without the gateway's settings.
DEFAULT_TIERS: tuple[SeatTier, ...] = (
    Tier("solo", 1, 1),
    Tier("team", 2, 4),
    Tier("business", 5, 10),
)


def add_customer(
    account: StripeAccount,
    customer_id: str | None,
    name: str,
    backoffice_id: str,
    iban: str,
    address: dict[str, str] | None = None,
) -> str:
    """A customer paying by SEPA debit (its invoice default); returns the customer's id."""
    customers = Customers(account)
    email = f"billing@{backoffice_id}.example"
    created = customers.create_customer(
        {
            "name": name,
            "email": email,
            "address": address,
            "metadata": {"backoffice_id": backoffice_id},
        },
        customer_id,
    )
    method = customers.create_payment_method(
        {
            "type": "sepa_debit",
            "sepa_debit": {"iban": iban},
            "billing_details": {"name": name, "email": email, "address": address},
        }
    )
    customers.attach(method["id"], created["id"])
    customers.update_customer(
        created["id"], {"invoice_settings": {"default_payment_method": method["id"]}}
    )
    return str(created["id"])


def seats_of(tier: SeatTier) -> int:
    """A quantity inside the tier, above its floor where it can be (3 seats of team)."""
    return min(tier.min_seats + 1, tier.max_seats)


def add_subscription(account: StripeAccount, customer: DemoCustomer, seats: int) -> str:
    billing = Billing(account)
    suffix = customer.id.removeprefix("cus_")
    price = billing.create_price(
        "Seat", SEAT_PRICE_MINOR, "eur", nickname="Seats, monthly", price_id=f"price_{suffix}"
    )
    subscription = billing.create_subscription(
        customer.id, price["id"], seats, f"sub_{suffix}", f"si_{suffix}"
    )
    billing.pay_invoice_now(subscription["id"])
    return str(subscription["id"])


def add_partner(account: StripeAccount) -> str:
    """The demo's Connect partner: a company whose shop trades under another name."""
    connect = Connect(account)
    partner = connect.create_account(
        "Brasserie du Port SAS",
        "Le Petit Port",
        {"backoffice_id": "shop-102"},
        "acct_DemoBrasserie",
        email="compta@brasserie-du-port.example",
        address=BRASSERIE_ADDRESS,
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


def seed_demo(account: StripeAccount, tiers: Sequence[SeatTier] = DEFAULT_TIERS) -> None:
    """The demo customers, their subscriptions (seats by `tiers`, the gateway's tier table),
    the debit in flight, the Connect partner, and the corrections and cheques demos'
    customers."""
    for customer in DEMO_CUSTOMERS:
        add_customer(
            account,
            customer.id,
            customer.name,
            customer.backoffice_id,
            customer.iban,
            customer.address,
        )
        tier = tiers[min(customer.tier_index, len(tiers) - 1)]
        add_subscription(account, customer, seats_of(tier))
        if customer.debit_in_flight_minor:
            Billing(account).start_debit(customer.id, customer.debit_in_flight_minor, "EUR")
    add_partner(account)
    seed_corrections(account)
    seed_cheques(account)
